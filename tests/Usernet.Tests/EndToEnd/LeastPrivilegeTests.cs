using System.Net;
using System.Net.Sockets;
using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// Once set up, usernet keeps only what it needs at run time, on every one of its threads:
/// CAP_NET_BIND_SERVICE (security.capabilities), no_new_privs, and the seccomp filter. What it
/// gave up is gone: without NET_BIND_SERVICE a port below 1024 can no longer be published.
/// </summary>
public sealed class LeastPrivilegeTests
{
    private const string NetBindService = "0000000000000400";
    private const string None = "0000000000000000";

    /// <summary>Every thread's sets, no_new_privs and seccomp, from /proc/PID/task/TID/status.</summary>
    private static void AssertConfined(int pid, string kept, string bounding, int seccomp = 2)
    {
        var threads = Directory.GetDirectories($"/proc/{pid}/task");
        Assert.True(threads.Length > 4, $"{threads.Length} threads");
        foreach (string thread in threads)
        {
            var status = File.ReadAllLines(Path.Combine(thread, "status"))
                .Select(l => l.Split(':', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1].Trim());
            string what = $"{status["Name"]} ({Path.GetFileName(thread)})";
            Assert.True(status["CapEff"] == kept, $"{what}: CapEff {status["CapEff"]}");
            Assert.True(status["CapPrm"] == kept, $"{what}: CapPrm {status["CapPrm"]}");
            Assert.True(status["CapInh"] == None, $"{what}: CapInh {status["CapInh"]}");
            Assert.True(status["CapAmb"] == None, $"{what}: CapAmb {status["CapAmb"]}");
            Assert.True(status["CapBnd"] == bounding, $"{what}: CapBnd {status["CapBnd"]}");
            Assert.True(status["NoNewPrivs"] == "1", $"{what}: NoNewPrivs {status["NoNewPrivs"]}");
            Assert.True(status["Seccomp"] == $"{seccomp}", $"{what}: Seccomp {status["Seccomp"]}");
        }
    }

    [RootFact]
    public void EveryThreadOfRunKeepsOnlyNetBindServiceUnderNoNewPrivsAndTheFilter()
    {
        using var guest = GuestSession.Start();
        AssertConfined(guest.UsernetPid, NetBindService, NetBindService);
        // And the guest is served: DNS, ping and a connection through the host.
        Assert.Contains("1 received", guest.Shell("ping -c 1 -W 2 192.168.65.1").Stdout);
        Assert.Contains("host.docker.internal", guest.Shell("getent hosts host.docker.internal").Stdout);
    }

    [RootFact]
    public void EveryThreadOfServeIsConfinedToo()
    {
        string socket = Path.Combine(Path.GetTempPath(), TestEnvironment.UniqueName("priv") + ".sock");
        using var serve = ServeInstance.Start("--listen-qemu", $"unix:{socket}");
        AssertConfined(serve.Pid, NetBindService, NetBindService);
    }

    /// <summary>The operation the dropped capability allowed now fails; with it kept, it works.</summary>
    [RootFact]
    public void WithoutNetBindServiceAPortBelow1024CannotBePublishedAtRunTime()
    {
        int low = FreeLowPort();
        using (var kept = GuestSession.Start())
        {
            var added = Port(kept, "add", $"{low}:80");
            Assert.True(added.ExitCode == 0, added.ToString());
            ProcessRunner.Check(Port(kept, "rm", $"{low}:80"));
        }
        using var none = GuestSession.Start("--set", "security.capabilities=");
        AssertConfined(none.UsernetPid, None, None);
        var refused = Port(none, "add", $"{low}:80");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"port {low} is privileged: binding it needs root or CAP_NET_BIND_SERVICE", refused.Stderr);
        // The port stayed free, and ports above 1024 are still published.
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Any, low));
        }
        ProcessRunner.Check(Port(none, "add", $"{Support.Ports.Free()}:80"));
    }

    [RootFact]
    public void TheFilterCanBeTurnedOffForDebugging()
    {
        using var guest = GuestSession.Start("--set", "security.seccomp=off");
        AssertConfined(guest.UsernetPid, NetBindService, NetBindService, seccomp: 0);
    }

    private static ProcessResult Port(GuestSession guest, string verb, string spec) =>
        ProcessRunner.Run(TestEnvironment.UsernetBinary, ["port", verb, spec, "--instance", guest.Instance], TimeSpan.FromSeconds(15));

    /// <summary>A port below 1024 that nothing holds on any address.</summary>
    private static int FreeLowPort()
    {
        for (int port = 900; port < 1024; port++)
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
                socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("no free port in 900-1023");
    }
}
