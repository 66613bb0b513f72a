using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// <c>usernet top --once</c> against a real guest that holds a TCP connection open to nginx on
/// the host's loopback, by a name the gateway's DNS gave it: the frame shows the guest (link,
/// MAC, IP) and the open flow with its name, destination and rule; and the live view in an
/// 80x24 tmux pane, sorted by a key and left with q, which gives the shell's screen back.
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

    [RootFact]
    public void InTmuxTheLiveViewSortsByKeyAndQuitsGivingTheScreenBack()
    {
        using var nginx = Nginx.Start();
        using var session = GuestSession.Start();
        Assert.Equal(0, ProcessRunner.Run(TestEnvironment.UsernetBinary, "dns", "add", "web.top.test", Host, "--instance", session.Instance).ExitCode);
        // A tmux server of the test's own (its socket), killed and its socket removed at the end whatever happens.
        string server = Path.Combine(Path.GetTempPath(), $"usernet-top-{Guid.NewGuid():N}.sock");
        string Tmux(params string[] args)
        {
            var result = ProcessRunner.Run("tmux", ["-S", server, .. args], TimeSpan.FromSeconds(10));
            Assert.True(result.ExitCode == 0, result.ToString());
            return result.Stdout;
        }
        try
        {
            Tmux("new-session", "-d", "-s", "top", "-x", "80", "-y", "24",
                $"echo before-top; {TestEnvironment.UsernetBinary} top --instance {session.Instance}; echo top-exited=$?; sleep 60");
            string pane = "";
            Assert.True(Support.Wait.Until(() => (pane = Tmux("capture-pane", "-p", "-t", "top")).Contains("sort: bytes", StringComparison.Ordinal), 20), pane);

            var started = session.Shell($"python3 -c '{Holder}' web.top.test {nginx.Port} >/dev/null 2>&1 &");
            Assert.True(started.ExitCode == 0, started.ToString());
            Assert.True(Support.Wait.Until(() => (pane = Tmux("capture-pane", "-p", "-t", "top")).Contains("web.top.test", StringComparison.Ordinal), 20), pane);
            string[] lines = pane.Split('\n');
            Assert.All(lines, l => Assert.True(l.Length <= 80, l));
            Assert.Contains(lines, l => l.StartsWith("tcp ", StringComparison.Ordinal) && l.Contains("web.top.test") && l.Contains($"{Host}:{nginx.Port}"));
            Assert.DoesNotContain("before-top", pane);

            Tmux("send-keys", "-t", "top", "n");
            Assert.True(Support.Wait.Until(() => (pane = Tmux("capture-pane", "-p", "-t", "top")).Contains("sort: name", StringComparison.Ordinal), 10), pane);

            Tmux("send-keys", "-t", "top", "q");
            Assert.True(Support.Wait.Until(() => (pane = Tmux("capture-pane", "-p", "-t", "top")).Contains("top-exited=0", StringComparison.Ordinal), 10), pane);
            // The alternate screen is gone: the shell's own lines are back, top's frame is not.
            Assert.Contains("before-top", pane);
            Assert.DoesNotContain("usernet top -", pane);
        }
        finally
        {
            ProcessRunner.Run("tmux", ["-S", server, "kill-server"], TimeSpan.FromSeconds(10));
            File.Delete(server);
        }
    }
}
