using Usernet.Config;
using static Usernet.Tests.Config.SettingsFiles;

namespace Usernet.Tests.Config;

public sealed class ReloadTests : IDisposable
{
    private readonly SettingsFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void LoadingTheSameInputTwiceChangesNothing()
    {
        _files.User("""{"dns": {"routes": {"corp": ["10.0.0.1"]}}, "ports": {"publish": ["8080:80"]}}""");
        Assert.Empty(_files.Settings().ChangedSections(_files.Settings()));
    }

    [Theory]
    [InlineData("vpnkitCIDR", "10.9.0.0/16", nameof(SettingsSection.Network))]
    [InlineData("network.mtu", "1400", nameof(SettingsSection.Network))]
    [InlineData("dnsInhibition", "ipv4", nameof(SettingsSection.Dns))]
    [InlineData("dns.routes", "corp=10.0.0.1", nameof(SettingsSection.Dns))]
    [InlineData("dns.searchDomains", "", nameof(SettingsSection.Dns))]
    [InlineData("proxy.exclude", "localhost", nameof(SettingsSection.Proxy))]
    [InlineData("containersProxy.transparentPorts", "*", nameof(SettingsSection.ContainersProxy))]
    [InlineData("portBindingBehavior", "local-only-port-binding", nameof(SettingsSection.Ports))]
    [InlineData("ports.publish", "8080:80", nameof(SettingsSection.Ports))]
    [InlineData("tcp.keepaliveCount", "3", nameof(SettingsSection.Tcp))]
    [InlineData("udp.idleTimeoutSeconds", "1", nameof(SettingsSection.Udp))]
    [InlineData("fragments.maxDatagrams", "1", nameof(SettingsSection.Fragments))]
    [InlineData("dhcp.leaseSeconds", "60", nameof(SettingsSection.Dhcp))]
    public void AChangedKeyNamesItsSection(string key, string value, string section)
    {
        var before = _files.Settings();
        var after = _files.Settings(Set(key, value));
        Assert.Equal([Enum.Parse<SettingsSection>(section)], after.ChangedSections(before));
    }

    [Fact]
    public void AChangedPasswordIsAChange()
    {
        var before = _files.Settings(Set("proxy.http", "http://alice:one@proxy:1"));
        var after = _files.Settings(Set("proxy.http", "http://alice:two@proxy:1"));
        Assert.Equal([SettingsSection.Proxy], after.ChangedSections(before));
    }

    [Fact]
    public void ASourceAloneIsNoChange()
    {
        var before = _files.Settings();
        var after = _files.Settings(Set("tcp.maxConnections", "16384"));
        Assert.Empty(after.ChangedSections(before));
    }

    [Fact]
    public void AFailedReloadLeavesTheOldSettingsAlone()
    {
        _files.User("""{"tcp": {"maxConnections": 5}}""");
        var current = _files.Settings();
        _files.User("""{"tcp": {"maxConnections": 0}}""");
        var reload = _files.Load();
        Assert.False(reload.Succeeded);
        Assert.Null(reload.Settings);
        Assert.Equal(5, current.Tcp.MaxConnections);
        Assert.Equal(5, current.Get(SettingsSchema.TcpMaxConnections));
    }
}
