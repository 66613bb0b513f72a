using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// <c>usernet top --once</c> against a real guest that holds a TCP connection open to nginx on
/// the host's loopback, by a name the gateway's DNS gave it: the frame shows the guest (link,
/// MAC, IP) and the open flow with its name, destination and verdict.
/// </summary>
public sealed class TopTests
{
    private const string Host = "192.168.65.254";

    /// <summary>Fetches a page on a keep-alive connection, then holds it open (bounded: 30 s).</summary>
    private const string Holder = """
        import socket, sys, time
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
        s.sendall(b"GET / HTTP/1.1\r\nHost: web.top.test\r\n\r\n")
        s.recv(65536)
        time.sleep(30)
        """;

    [RootFact]
    public void OnceShowsTheGuestAndItsOpenFlowByName()
    {
        using var nginx = Nginx.Start();
        using var session = GuestSession.Start();
        Assert.Equal(0, ProcessRunner.Run(TestEnvironment.UsernetBinary, "dns", "add", "web.top.test", Host, "--instance", session.Instance).ExitCode);
        // A first frame before the lookup: while top reads, the instance learns names from DNS answers.
        var first = ProcessRunner.Run(TestEnvironment.UsernetBinary, "top", "--once", "--instance", session.Instance);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains($"usernet top - {session.Instance} - ", first.Stdout);

        var started = session.Shell($"python3 -c '{Holder}' web.top.test {nginx.Port} >/dev/null 2>&1 &");
        Assert.True(started.ExitCode == 0, started.ToString());

        string frame = "";
        Assert.True(Support.Wait.Until(() =>
        {
            frame = ProcessRunner.Run(TestEnvironment.UsernetBinary, "top", "--once", "--instance", session.Instance).Stdout;
            return frame.Contains("web.top.test", StringComparison.Ordinal);
        }, 20), frame);
        string[] lines = frame.Split('\n');
        Assert.Contains(lines, l => l.Contains("tap0") && l.Contains(session.GuestMac().ToString()) && l.Contains("192.168.65.3"));
        var row = Assert.Single(lines, l => l.Contains("web.top.test"));
        Assert.Matches($@"^tcp +192\.168\.65\.3:\d+ +{Host.Replace(".", @"\.")}:{nginx.Port} +web\.top\.test .* egress\.default$", row);
        Assert.DoesNotContain("\u001b", frame);
    }
}
