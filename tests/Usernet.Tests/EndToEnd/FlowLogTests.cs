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
}
