using System.Diagnostics;
using Usernet.Platform.Interop;

namespace Usernet.Tests.EndToEnd;

/// <summary>`usernet serve` with guests that are real kernels.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public void AnExistingTapInAnotherNamespaceGetsALeaseAndAnswersPing()
    {
        TestEnvironment.RequireRoot();
        string tap = TestEnvironment.UniqueName("utap");
        string netns = TestEnvironment.UniqueName("uns");
        Process? serve = null;
        try
        {
            ProcessRunner.Check(ProcessRunner.Run("ip", "tuntap", "add", "dev", tap, "mode", "tap"));
            serve = ProcessRunner.Start(TestEnvironment.UsernetBinary, ["serve", "--tap", tap, "--instance", netns]);
            Assert.True(RunCommandTests.WaitUntil(() => ProcessRunner.Run(TestEnvironment.UsernetBinary, "stats", "--instance", netns).ExitCode == 0),
                "serve did not start");
            // The device keeps its open fd in usernet while it moves into the guest's namespace.
            ProcessRunner.Check(ProcessRunner.Run("ip", "netns", "add", netns));
            ProcessRunner.Check(ProcessRunner.Run("ip", "link", "set", tap, "netns", netns));
            string script = $"ip link set lo up; ip link set {tap} up; " +
                $"busybox udhcpc -i {tap} -q -n -f -t 5 -s /bin/true 2>&1; " +
                $"ip addr add 192.168.65.3/24 dev {tap}; ping -c 2 -i 0.2 -W 2 192.168.65.1";
            var result = ProcessRunner.Run("ip", ["netns", "exec", netns, "sh", "-c", script], TimeSpan.FromSeconds(30));
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("lease of 192.168.65.3 obtained", result.Stdout);
            Assert.Contains("2 received", result.Stdout);
        }
        finally
        {
            if (serve is not null)
            {
                Libc.Kill(serve.Id, Libc.SIGTERM);
                serve.WaitForExit(TimeSpan.FromSeconds(10));
                serve.Dispose();
            }
            ProcessRunner.Run("ip", "netns", "del", netns);
            ProcessRunner.Run("ip", "link", "del", tap);
        }
    }

    [Fact]
    public void ServeRefusesToStartWithNothingToServe()
    {
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary, "serve");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("nothing to serve", result.Stderr);
    }

    [Fact]
    public void AutomaticPublishingIsRefusedWithoutANamespaceToWatch()
    {
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary, "serve", "--tap", "unused0", "-p", "auto");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--publish auto works only with 'usernet run'", result.Stderr);
    }

    [Fact]
    public void PortHelpShowsTheSpecSyntax()
    {
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary, "port", "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("usage: usernet port add SPEC", result.Stdout);
        Assert.Contains("[HOST_IP:][HOST_PORT:]GUEST_PORT", result.Stdout);
    }

    [Fact]
    public void ABadListenAddressIsRefusedWithItsText()
    {
        var result = ProcessRunner.Run(TestEnvironment.UsernetBinary, "serve", "--listen-qemu", "carrier-pigeon:1");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("carrier-pigeon:1", result.Stderr);
    }
}
