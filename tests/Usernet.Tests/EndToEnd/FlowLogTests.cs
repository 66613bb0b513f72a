using System.Text.Json;
using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// The flow log of a real guest: curl in the guest fetches a page from nginx on the host's
/// loopback, by a name the gateway's DNS gives it, and the flow's line (in log.flows, in
/// <c>usernet flows</c> and in the stream <c>usernet flows --follow</c> prints) has the bytes
/// curl counted, each way.
/// </summary>
public sealed class FlowLogTests : IDisposable
{
    private const string Host = "192.168.65.254";
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("usernet-flows-");

    public void Dispose() => _directory.Delete(recursive: true);

    [RootFact]
    public void AFetchFromTheHostIsOneLineWithItsBytesAndName()
    {
        using var nginx = Nginx.Start();
        string file = Path.Combine(_directory.FullName, "flows.log");
        using var session = GuestSession.Start("--set", $"log.flows={file}");
        Assert.Equal(0, ProcessRunner.Run(TestEnvironment.UsernetBinary, "dns", "add", "web.flows.test", Host, "--instance", session.Instance).ExitCode);
        using var follow = ManagedProcess.Start(TestEnvironment.UsernetBinary, ["flows", "--follow", "--json", "--instance", session.Instance]);
        // The follower is registered before the instance sends the stream's head, which the CLI has once it says so.
        follow.WaitUntilReady(() => follow.Stderr.Contains("following the flows", StringComparison.Ordinal));

        // size_request: what curl sent; size_header + size_download: what it received.
        var fetched = session.Exec(["curl", "-sS", "-o", "/dev/null", "--max-time", "10", "-w", "%{size_request} %{size_header} %{size_download} %{local_port}",
            $"http://web.flows.test:{nginx.Port}/"]);
        Assert.True(fetched.ExitCode == 0, fetched.Stderr);
        long[] sizes = fetched.Stdout.Trim().Split(' ').Select(long.Parse).ToArray();
        string source = $"192.168.65.3:{sizes[3]}";
        string destination = $"{Host}:{nginx.Port}";

        string? streamed = null;
        for (int i = 0; i < 20 && streamed is null; i++)
        {
            string? next = follow.ReadLine(TimeSpan.FromSeconds(10));
            Assert.True(next is not null, $"no flow line streamed; stderr: {follow.Stderr}");
            if (next.Contains($"\"source\":\"{source}\"", StringComparison.Ordinal))
            {
                streamed = next;
            }
        }
        Assert.NotNull(streamed);
        using var document = JsonDocument.Parse(streamed);
        var flow = document.RootElement;
        Assert.Equal("tcp", flow.GetProperty("proto").GetString());
        Assert.Equal("outbound", flow.GetProperty("direction").GetString());
        Assert.Equal(destination, flow.GetProperty("destination").GetString());
        Assert.Equal("web.flows.test", flow.GetProperty("name").GetString());
        Assert.Equal("tap0", flow.GetProperty("link").GetString());
        Assert.Equal(session.GuestMac().ToString(), flow.GetProperty("mac").GetString());
        Assert.Equal("192.168.65.3", flow.GetProperty("ip").GetString());
        Assert.Equal(sizes[0], flow.GetProperty("bytesFromGuest").GetInt64());
        Assert.Equal(sizes[1] + sizes[2], flow.GetProperty("bytesToGuest").GetInt64());
        Assert.True(flow.GetProperty("packetsFromGuest").GetInt64() >= 3, streamed);
        Assert.True(flow.GetProperty("packetsToGuest").GetInt64() >= 3, streamed);
        Assert.Equal("fin", flow.GetProperty("end").GetString());
        // No egress section: the default lets every flow out, and the line says so.
        Assert.Equal("allow", flow.GetProperty("verdict").GetString());
        Assert.Equal("egress.default", flow.GetProperty("rule").GetString());

        // The same line, once, in the file and in usernet flows --json; the table names it too.
        Assert.True(Support.Wait.Until(() => File.Exists(file) && File.ReadAllText(file).Contains(streamed, StringComparison.Ordinal), 10), "the line is not in log.flows");
        Assert.Single(File.ReadAllLines(file), l => l == streamed);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var listed = ProcessRunner.Run(TestEnvironment.UsernetBinary, "flows", "--json", "--instance", session.Instance);
        Assert.Single(listed.Stdout.Split('\n'), l => l == streamed);
        var table = ProcessRunner.Run(TestEnvironment.UsernetBinary, "flows", "--instance", session.Instance);
        Assert.Contains(table.Stdout.Split('\n'), row => row.Contains(source, StringComparison.Ordinal) && row.Contains("web.flows.test", StringComparison.Ordinal) && row.EndsWith(" fin      allow egress.default", StringComparison.Ordinal));
    }

    [RootFact]
    public void UnderFlowStartsAConnectionIsAStartLineThenAnEndLine()
    {
        using var nginx = Nginx.Start();
        using var session = GuestSession.Start("--set", "log.flowStarts=true");
        using var follow = ManagedProcess.Start(TestEnvironment.UsernetBinary, ["flows", "--follow", "--json", "--instance", session.Instance]);
        follow.WaitUntilReady(() => follow.Stderr.Contains("following the flows", StringComparison.Ordinal));

        var fetched = session.Exec(["curl", "-sS", "-o", "/dev/null", "--max-time", "10", "-w", "%{local_port}", $"http://{Host}:{nginx.Port}/"]);
        Assert.True(fetched.ExitCode == 0, fetched.Stderr);
        string source = $"\"source\":\"192.168.65.3:{fetched.Stdout.Trim()}\"";

        // The guest's other flows (none expected, but DNS or IPv6 chatter would be lines too) are skipped; this connection's are kept in order.
        var lines = new List<string>();
        for (int i = 0; i < 20 && !lines.Any(l => l.Contains("\"end\":", StringComparison.Ordinal)); i++)
        {
            string? next = follow.ReadLine(TimeSpan.FromSeconds(10));
            Assert.True(next is not null, $"no end line streamed; so far: {string.Join('\n', lines)}; stderr: {follow.Stderr}");
            if (next.Contains(source, StringComparison.Ordinal))
            {
                lines.Add(next);
            }
        }
        Assert.Equal(2, lines.Count);
        using var started = JsonDocument.Parse(lines[0]);
        var start = started.RootElement;
        Assert.True(start.GetProperty("start").GetBoolean());
        Assert.Equal("tcp", start.GetProperty("proto").GetString());
        Assert.Equal("tap0", start.GetProperty("link").GetString());
        Assert.Equal(session.GuestMac().ToString(), start.GetProperty("mac").GetString());
        Assert.Equal($"{Host}:{nginx.Port}", start.GetProperty("destination").GetString());
        Assert.Equal("allow", start.GetProperty("verdict").GetString());
        Assert.Equal("egress.default", start.GetProperty("rule").GetString());
        Assert.False(start.TryGetProperty("end", out _));
        Assert.False(start.TryGetProperty("bytesFromGuest", out _));
        using var ended = JsonDocument.Parse(lines[1]);
        Assert.Equal("fin", ended.RootElement.GetProperty("end").GetString());
        Assert.False(ended.RootElement.TryGetProperty("start", out _));

        // GET /flows keeps both, once each; the table shows the start as one.
        var listed = ProcessRunner.Run(TestEnvironment.UsernetBinary, "flows", "--json", "--instance", session.Instance);
        Assert.Equal(lines, listed.Stdout.Split('\n').Where(l => l.Contains(source, StringComparison.Ordinal)));
        var table = ProcessRunner.Run(TestEnvironment.UsernetBinary, "flows", "--instance", session.Instance);
        string port = fetched.Stdout.Trim();
        Assert.Single(table.Stdout.Split('\n'), row => row.Contains($"192.168.65.3:{port} ", StringComparison.Ordinal) && row.EndsWith(" start    allow egress.default", StringComparison.Ordinal));
    }

    /// <summary>
    /// The load: 200 connections one after another (a new curl each, so a new source
    /// port each: the guest's TIME_WAIT keeps a port from coming back within the run), while
    /// <c>usernet flows --follow --json</c> streams; each connection's end line comes exactly once.
    /// </summary>
    [RootFact]
    public void TheFollowerShowsEachOfTwoHundredConnectionsOnce()
    {
        const int Connections = 200;
        using var nginx = Nginx.Start();
        using var session = GuestSession.Start();
        using var follow = ManagedProcess.Start(TestEnvironment.UsernetBinary, ["flows", "--follow", "--json", "--instance", session.Instance]);
        follow.WaitUntilReady(() => follow.Stderr.Contains("following the flows", StringComparison.Ordinal));

        var fetched = session.Shell(
            $"for i in $(seq {Connections}); do curl -sS -o /dev/null --max-time 5 -w '%{{local_port}}\\n' http://{Host}:{nginx.Port}/ || exit 1; done",
            TimeSpan.FromSeconds(120));
        Assert.True(fetched.ExitCode == 0, fetched.Stderr);
        string[] ports = fetched.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Connections, ports.Length);
        Assert.Equal(Connections, ports.Distinct().Count());

        var seen = ports.ToDictionary(p => $"192.168.65.3:{p}", _ => 0);
        var others = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (seen.Values.Any(n => n == 0) && DateTime.UtcNow < deadline)
        {
            string? line = follow.ReadLine(TimeSpan.FromSeconds(10));
            Assert.True(line is not null, $"the stream stopped with {seen.Values.Count(n => n == 0)} connections missing; stderr: {follow.Stderr}");
            Count(line);
        }
        // A duplicate would come soon after its first: read what else comes within a second.
        while (follow.ReadLine(TimeSpan.FromSeconds(1)) is { } late)
        {
            Count(late);
        }
        Assert.Empty(seen.Where(p => p.Value != 1).Select(p => $"{p.Key}: {p.Value}"));
        Assert.Empty(others);

        void Count(string line)
        {
            using var document = JsonDocument.Parse(line);
            var flow = document.RootElement;
            string source = flow.GetProperty("source").GetString()!;
            if (seen.TryGetValue(source, out int count))
            {
                Assert.Equal("fin", flow.GetProperty("end").GetString());
                seen[source] = count + 1;
            }
            else if (flow.GetProperty("destination").GetString() == $"{Host}:{nginx.Port}")
            {
                others.Add(line);
            }
        }
    }
}
