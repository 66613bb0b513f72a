using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// `usernet run` as an unprivileged user. This machine ships /dev/net/tun as 0600; the tests
/// give it the mode distributions ship (0666) for their duration.
/// </summary>
[Collection(nameof(TunDeviceMode))]
public sealed class RootlessTests
{
    private static ProcessResult RunAsNobody(string commandPrefix = "")
    {
        string binary = TestEnvironment.UsernetBinary;
        return ProcessRunner.Shell(
            $"cd /tmp && {commandPrefix} setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp XDG_RUNTIME_DIR= " +
            $"{binary} run -- ping -c 1 -W 2 192.168.65.1", TimeSpan.FromSeconds(30));
    }

    [RootFact]
    public void AnUnprivilegedUserCanRunAndPing()
    {
        using var _ = TunDeviceMode.DistributionDefault();
        var result = RunAsNobody();
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("1 received", result.Stdout);
    }

    /// <summary>An unprivileged usernet has no capability to drop, and takes no_new_privs and the filter all the same.</summary>
    [RootFact]
    public void AnUnprivilegedUsernetRunsUnderNoNewPrivsAndTheFilter()
    {
        using var _ = TunDeviceMode.DistributionDefault();
        using var run = ManagedProcess.Start("sh", ["-c",
            "cd /tmp && exec setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp XDG_RUNTIME_DIR= " +
            $"{TestEnvironment.UsernetBinary} run -- sleep 600"]);
        run.WaitUntilReady(() => File.ReadAllText($"/proc/{run.Id}/status").Contains("Seccomp:\t2"), TimeSpan.FromSeconds(20));
        foreach (string thread in Directory.GetDirectories($"/proc/{run.Id}/task"))
        {
            string status = File.ReadAllText(Path.Combine(thread, "status"));
            Assert.Contains("CapEff:\t0000000000000000", status);
            Assert.Contains("NoNewPrivs:\t1", status);
            Assert.Contains("Seccomp:\t2", status);
        }
    }

    [RootFact]
    public void WithoutAccessToTheTunDeviceItSaysWhy()
    {
        using var _ = TunDeviceMode.Set(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var result = RunAsNobody();
        Assert.Equal(125, result.ExitCode);
        Assert.Contains("/dev/net/tun", result.Stderr);
        Assert.Contains("0666", result.Stderr);
    }

    [RootFact]
    public void WhereTheKernelForbidsUserNamespacesItSaysWhy()
    {
        using var _ = TunDeviceMode.DistributionDefault();
        // Inside a user namespace of our own, the limit can be set to 0 without touching the
        // host. The shell waits until the test has written its uid map (root maps 65536 ids),
        // then execs again so that, as uid 0 of the namespace, it has its capabilities.
        string inner =
            "echo 0 > /proc/sys/user/max_user_namespaces && cd /tmp && " +
            "exec setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp XDG_RUNTIME_DIR= " +
            $"{TestEnvironment.UsernetBinary} run -- true";
        string script = $"while ! grep -q 65536 /proc/self/uid_map; do sleep 0.02; done; exec sh -c '{inner}'";
        using var process = ManagedProcess.Start("unshare", ["--user", "--", "sh", "-c", script]);
        string ours = new FileInfo("/proc/self/ns/user").LinkTarget!;
        Assert.True(Wait.Until(() => new FileInfo($"/proc/{process.Id}/ns/user").LinkTarget != ours), "unshare did not create a user namespace");
        File.WriteAllText($"/proc/{process.Id}/uid_map", "0 0 65536");
        File.WriteAllText($"/proc/{process.Id}/gid_map", "0 0 65536");
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(125, process.ExitCode);
        Assert.Contains("cannot create a user namespace", process.Stderr);
        Assert.Contains("user.max_user_namespaces is 0", process.Stderr);
    }
}
