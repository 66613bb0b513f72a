using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>`usernet run` against the real kernel of a network namespace.</summary>
public sealed class RunCommandTests
{
    private static ProcessResult Run(params string[] arguments) =>
        ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", .. arguments], TimeSpan.FromSeconds(60));

    [RootFact]
    public void PingReachesTheGatewayAndTheHost()
    {
        var gateway = Run("--", "ping", "-c", "3", "-i", "0.2", "-W", "2", "192.168.65.1");
        Assert.True(gateway.ExitCode == 0, gateway.ToString());
        Assert.Contains("3 received", gateway.Stdout);
        var host = Run("--", "ping", "-c", "1", "-W", "2", "192.168.65.254");
        Assert.True(host.ExitCode == 0, host.ToString());
        Assert.Contains("1 received", host.Stdout);
    }

    [RootFact]
    public void ExitsWithTheCommandsStatus()
    {
        Assert.Equal(7, Run("--", "sh", "-c", "exit 7").ExitCode);
        Assert.Equal(0, Run("--", "true").ExitCode);
    }

    [RootFact]
    public void ACommandKilledBySignalExitsWith128PlusTheSignal()
    {
        Assert.Equal(143, Run("--", "sh", "-c", "kill -TERM $$").ExitCode);
    }

    [RootFact]
    public void AMissingCommandIsReportedWith127()
    {
        var result = Run("--", "no-such-command-here");
        Assert.Equal(127, result.ExitCode);
        Assert.Contains("no-such-command-here: command not found", result.Stderr);
    }

    [RootFact]
    public void AMissingUsualToolNamesItsPackage()
    {
        // A PATH without ping is a machine without iputils-ping, as a minimal one is.
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", "--", "ping", "-c", "1", "192.168.65.1"], TimeSpan.FromSeconds(60),
            environment: new Dictionary<string, string> { ["PATH"] = "/nonexistent" });
        Assert.Equal(127, result.ExitCode);
        Assert.Contains("usernet: ping: command not found (it is in the package iputils-ping: apt-get install iputils-ping)", result.Stderr);
    }

    [RootFact]
    public void SigtermToUsernetReachesTheCommand()
    {
        using var process = ManagedProcess.Start(TestEnvironment.UsernetBinary,
            ["run", "--", "sh", "-c", "trap 'exit 42' TERM; echo started; while true; do sleep 0.05; done"]);
        Assert.Equal("started", process.ReadLine(TimeSpan.FromSeconds(30)));
        Usernet.Platform.Interop.Libc.Kill(process.Id, Usernet.Platform.Interop.Libc.SIGTERM);
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Equal(42, process.ExitCode);
    }

    [RootFact]
    public void KillingUsernetEndsTheGuest()
    {
        using var session = GuestSession.Start();
        string netns = ProcessRunner.Check(session.Exec(["readlink", "/proc/self/ns/net"])).Trim();
        session.Kill();
        // Reaps it (and removes the control socket it left); nothing is left to stop.
        session.Dispose();
        Assert.True(Wait.Until(() => NetworkNamespace.ProcessesIn(netns).Count == 0), $"processes left in {netns}");
    }

    [RootFact]
    public void DhcpAddressingConfiguresTheGuestFromOurServer()
    {
        var result = Run("--addressing", "dhcp", "--mtu", "1500", "--", "sh", "-c", "ip -4 -o addr show tap0; ip route; ip -o link show tap0");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("inet 192.168.65.3/24", result.Stdout);
        Assert.Contains("default via 192.168.65.1 dev tap0", result.Stdout);
        Assert.Contains("mtu 1500", result.Stdout);
    }

    [RootFact]
    public void UdhcpcInTheGuestGetsTheLeaseWithAllOptions()
    {
        string directory = Directory.CreateTempSubdirectory("usernet-test-").FullName;
        try
        {
            string script = Path.Combine(directory, "udhcpc.sh");
            File.WriteAllText(script, "#!/bin/sh\n[ \"$1\" = bound ] && echo \"LEASE ip=$ip subnet=$subnet router=$router dns=$dns mtu=$mtu lease=$lease\"\nexit 0\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
            var result = Run("--addressing", "none", "--", "busybox", "udhcpc", "-i", "tap0", "-q", "-n", "-f", "-t", "5", "-s", script, "-O", "mtu");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("LEASE ip=192.168.65.3 subnet=255.255.255.0 router=192.168.65.1 dns=192.168.65.1 mtu=65520 lease=3600", result.Stdout);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [RootFact]
    public void TheGuestGetsItsOwnResolvConfAndTheHostsIsUntouched()
    {
        string hostBefore = File.ReadAllText("/etc/resolv.conf");
        var result = Run("--", "cat", "/etc/resolv.conf");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("nameserver 192.168.65.1", result.Stdout);
        Assert.Equal(hostBefore, File.ReadAllText("/etc/resolv.conf"));
    }

    [RootFact]
    public void WithoutACommandItRunsAShell()
    {
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run"], TimeSpan.FromSeconds(30),
            stdin: "ip -4 -o addr show tap0\nexit 3\n", environment: new Dictionary<string, string> { ["SHELL"] = "/bin/sh" });
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("192.168.65.3", result.Stdout);
    }

    [Fact]
    public void BadOptionsAreRefusedWithTheirName()
    {
        var unknown = ProcessRunner.Run(TestEnvironment.UsernetBinary, "run", "--no-such-flag", "--", "true");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--no-such-flag", unknown.Stderr);
        var badMode = ProcessRunner.Run(TestEnvironment.UsernetBinary, "run", "--addressing", "magic", "--", "true");
        Assert.Equal(2, badMode.ExitCode);
        Assert.Contains("--addressing", badMode.Stderr);
    }
}
