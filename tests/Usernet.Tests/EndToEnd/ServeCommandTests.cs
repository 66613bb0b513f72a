using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>`usernet serve` with guests that are real kernels.</summary>
public sealed class ServeCommandTests
{
    [RootFact]
    public void AnExistingTapInAnotherNamespaceGetsALeaseAndAnswersPing()
    {
        string tap = TestEnvironment.UniqueName("utap");
        ServeInstance? serve = null;
        NetworkNamespace? guest = null;
        try
        {
            NetworkNamespace.Ip("tuntap", "add", "dev", tap, "mode", "tap");
            serve = ServeInstance.Start("--tap", tap);
            // The device keeps its open fd in usernet while it moves into the guest's namespace.
            guest = NetworkNamespace.Create("uns");
            NetworkNamespace.Ip("link", "set", tap, "netns", guest.Name);
            string script = $"ip link set lo up; ip link set {tap} up; " +
                $"busybox udhcpc -i {tap} -q -n -f -t 5 -s /bin/true 2>&1; " +
                $"ip addr add 192.168.65.3/24 dev {tap}; ping -c 2 -i 0.2 -W 2 192.168.65.1";
            var result = ProcessRunner.Run("ip", ["netns", "exec", guest.Name, "sh", "-c", script], TimeSpan.FromSeconds(30));
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("lease of 192.168.65.3 obtained", result.Stdout);
            Assert.Contains("2 received", result.Stdout);
        }
        finally
        {
            serve?.Dispose();
            guest?.Dispose();
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
