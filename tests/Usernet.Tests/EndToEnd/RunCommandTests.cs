namespace Usernet.Tests.EndToEnd;

/// <summary>`usernet run` against the real kernel of a network namespace.</summary>
public sealed class RunCommandTests
{
    private static ProcessResult Run(params string[] arguments) =>
        ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", .. arguments], TimeSpan.FromSeconds(60));

    [Fact]
    public void PingReachesTheGatewayAndTheHost()
    {
        TestEnvironment.RequireRoot();
        var gateway = Run("--", "ping", "-c", "3", "-i", "0.2", "-W", "2", "192.168.65.1");
        Assert.True(gateway.ExitCode == 0, gateway.ToString());
        Assert.Contains("3 received", gateway.Stdout);
        var host = Run("--", "ping", "-c", "1", "-W", "2", "192.168.65.254");
        Assert.True(host.ExitCode == 0, host.ToString());
        Assert.Contains("1 received", host.Stdout);
    }

    [Fact]
    public void ExitsWithTheCommandsStatus()
    {
        TestEnvironment.RequireRoot();
        Assert.Equal(7, Run("--", "sh", "-c", "exit 7").ExitCode);
        Assert.Equal(0, Run("--", "true").ExitCode);
    }

    [Fact]
    public void ACommandKilledBySignalExitsWith128PlusTheSignal()
    {
        TestEnvironment.RequireRoot();
        Assert.Equal(143, Run("--", "sh", "-c", "kill -TERM $$").ExitCode);
    }

    [Fact]
    public void AMissingCommandIsReportedWith127()
    {
        TestEnvironment.RequireRoot();
        var result = Run("--", "no-such-command-here");
        Assert.Equal(127, result.ExitCode);
        Assert.Contains("no-such-command-here: command not found", result.Stderr);
    }

    [Fact]
    public void SigtermToUsernetReachesTheCommand()
    {
        TestEnvironment.RequireRoot();
        using var process = ProcessRunner.Start(TestEnvironment.UsernetBinary,
            ["run", "--", "sh", "-c", "trap 'exit 42' TERM; echo started; while true; do sleep 0.05; done"]);
        Assert.Equal("started", process.StandardOutput.ReadLine());
        Usernet.Platform.Interop.Libc.Kill(process.Id, Usernet.Platform.Interop.Libc.SIGTERM);
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Equal(42, process.ExitCode);
    }

    [Fact]
    public void KillingUsernetEndsTheGuest()
    {
        TestEnvironment.RequireRoot();
        var session = GuestSession.Start();
        string netns = ProcessRunner.Check(session.Exec(["readlink", "/proc/self/ns/net"])).Trim();
        Usernet.Platform.Interop.Libc.Kill(session.UsernetPid, Usernet.Platform.Interop.Libc.SIGKILL);
        session.Dispose();
        Assert.True(WaitUntil(() => ProcessesIn(netns).Count == 0), $"processes left in {netns}");
    }

    [Fact]
    public void DhcpAddressingConfiguresTheGuestFromOurServer()
    {
        TestEnvironment.RequireRoot();
        var result = Run("--addressing", "dhcp", "--mtu", "1500", "--", "sh", "-c", "ip -4 -o addr show tap0; ip route; ip -o link show tap0");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("inet 192.168.65.3/24", result.Stdout);
        Assert.Contains("default via 192.168.65.1 dev tap0", result.Stdout);
        Assert.Contains("mtu 1500", result.Stdout);
    }

    [Fact]
    public void UdhcpcInTheGuestGetsTheLeaseWithAllOptions()
    {
        TestEnvironment.RequireRoot();
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

    [Fact]
    public void TheGuestGetsItsOwnResolvConfAndTheHostsIsUntouched()
    {
        TestEnvironment.RequireRoot();
        string hostBefore = File.ReadAllText("/etc/resolv.conf");
        var result = Run("--", "cat", "/etc/resolv.conf");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("nameserver 192.168.65.1", result.Stdout);
        Assert.Equal(hostBefore, File.ReadAllText("/etc/resolv.conf"));
    }

    [Fact]
    public void WithoutACommandItRunsAShell()
    {
        TestEnvironment.RequireRoot();
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

    /// <summary>PIDs of processes whose network namespace is <paramref name="netns"/> (as readlink shows it).</summary>
    internal static List<int> ProcessesIn(string netns)
    {
        var pids = new List<int>();
        foreach (string directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid))
            {
                continue;
            }
            try
            {
                var target = new FileInfo(Path.Combine(directory, "ns", "net")).LinkTarget;
                if (target == netns)
                {
                    pids.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return pids;
    }

    internal static bool WaitUntil(Func<bool> condition, double seconds = 10)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }
            Thread.Sleep(50);
        }
        return condition();
    }
}
