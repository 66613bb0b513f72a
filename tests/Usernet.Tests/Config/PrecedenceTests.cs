using Usernet.Config;
using Usernet.Wire;
using static Usernet.Tests.Config.SettingsFiles;

namespace Usernet.Tests.Config;

public sealed class PrecedenceTests : IDisposable
{
    private readonly SettingsFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void DefaultsAreDockerDesktops()
    {
        var settings = _files.Settings();
        Assert.Equal(Ipv4Cidr.Parse("192.168.65.0/24"), settings.Network.Subnet);
        Assert.Equal(Ipv4Address.Parse("192.168.65.1"), settings.Network.GatewayIp);
        Assert.Equal(Ipv4Address.Parse("192.168.65.254"), settings.Network.HostIp);
        Assert.Equal(Ipv4Address.Parse("192.168.65.3"), settings.Network.FirstGuestIp);
        Assert.Equal(Ipv6Cidr.Parse("fdc4:f303:9324::/64"), settings.Network.Ipv6Prefix);
        Assert.Equal(Ipv6Address.Parse("fdc4:f303:9324::1"), settings.Network.GatewayIpv6);
        Assert.Equal(Ipv6Address.Parse("fdc4:f303:9324::254"), settings.Network.HostIpv6);
        Assert.Equal(Ipv6Address.Parse("fdc4:f303:9324::3"), settings.Network.FirstGuestIpv6);
        Assert.Null(settings.Network.Mtu);
        Assert.Equal(NetworkingMode.DualStack, settings.Network.Mode);
        Assert.True(settings.Network.HostLoopback);
        Assert.Equal(DnsInhibition.Auto, settings.Dns.Inhibition);
        Assert.Empty(settings.Dns.Servers);
        Assert.Empty(settings.Dns.Routes);
        Assert.Null(settings.Dns.SearchDomains);
        Assert.Equal("/etc/resolv.conf", settings.Dns.ResolvConf);
        Assert.Equal(4096, settings.Dns.CacheSize);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.Dns.Timeout);
        Assert.Equal(ProxyMode.System, settings.Proxy.Mode);
        Assert.Null(settings.Proxy.Http);
        Assert.Empty(settings.Proxy.Exclude);
        Assert.True(settings.ContainersProxy.TransparentPorts.IsEmpty);
        Assert.Equal(PortBindingBehavior.DefaultPortBinding, settings.Ports.BindingBehavior);
        Assert.True(settings.Ports.PreserveClientAddress);
        Assert.Equal(16384, settings.Tcp.MaxConnections);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Tcp.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), settings.Tcp.KeepaliveIdle);
        Assert.Equal(TimeSpan.FromSeconds(15), settings.Tcp.KeepaliveInterval);
        Assert.Equal(8, settings.Tcp.KeepaliveCount);
        Assert.Equal(4096, settings.Udp.MaxFlows);
        Assert.Equal(TimeSpan.FromSeconds(60), settings.Udp.IdleTimeout);
        Assert.Equal(64, settings.Fragments.MaxDatagrams);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Fragments.Timeout);
        Assert.Equal(TimeSpan.FromHours(1), settings.Dhcp.LeaseTime);
        Assert.Equal(250, settings.Dhcp.MaxLeases);
        Assert.All(settings.Entries, entry => Assert.Equal(SettingSource.Default, entry.Source));
    }

    [Fact]
    public void AnUnlockedAdminValueActsAsADefault()
    {
        _files.Admin("""{"tcp": {"maxConnections": {"locked": false, "value": 100}}, "udp": {"maxFlows": 7}}""");
        var settings = _files.Settings();
        Assert.Equal(100, settings.Tcp.MaxConnections);
        Assert.Equal(7, settings.Udp.MaxFlows);
        Assert.Equal(SettingSource.Admin(_files.AdminPath, locked: false), settings.SourceOf(SettingsSchema.TcpMaxConnections));
    }

    [Fact]
    public void TheUserFileBeatsAnUnlockedAdminValue()
    {
        _files.Admin("""{"tcp": {"maxConnections": {"locked": false, "value": 100}}}""");
        _files.User("""{"tcp": {"maxConnections": 200}}""");
        var settings = _files.Settings();
        Assert.Equal(200, settings.Tcp.MaxConnections);
        Assert.Equal(SettingSource.File(_files.UserPath), settings.SourceOf(SettingsSchema.TcpMaxConnections));
    }

    [Fact]
    public void AFlagBeatsTheUserFile()
    {
        _files.Admin("""{"tcp": {"maxConnections": {"locked": false, "value": 100}}}""");
        _files.User("""{"tcp": {"maxConnections": 200}}""");
        var settings = _files.Settings(new SettingOverride("tcp.maxConnections", "300", "--max-connections"));
        Assert.Equal(300, settings.Tcp.MaxConnections);
        Assert.Equal(SettingSource.Flag("--max-connections"), settings.SourceOf(SettingsSchema.TcpMaxConnections));
    }

    [Fact]
    public void ALockedAdminValueBeatsTheUserFileWithAWarning()
    {
        _files.Admin("""{"tcp": {"maxConnections": {"locked": true, "value": 100}}}""");
        _files.User("""{"tcp": {"maxConnections": 200}}""");
        var result = _files.Load();
        Assert.True(result.Succeeded);
        Assert.Equal(100, result.Settings.Tcp.MaxConnections);
        Assert.Equal(SettingSource.Admin(_files.AdminPath, locked: true), result.Settings.SourceOf(SettingsSchema.TcpMaxConnections));
        var warning = Assert.Single(result.Warnings);
        Assert.Equal(
            $"{_files.UserPath}: tcp.maxConnections is locked by the administrator in {_files.AdminPath}; the value in this file is ignored",
            warning.ToString());
    }

    [Fact]
    public void ALockedAdminValueRefusesAFlag()
    {
        _files.Admin("""{"network": {"mtu": {"locked": true, "value": 1500}}}""");
        var errors = _files.Errors(new SettingOverride("network.mtu", "1400", "--mtu"));
        Assert.Equal([$"--mtu: network.mtu is locked by the administrator in {_files.AdminPath}"], errors);
    }

    [Fact]
    public void EachLevelReportsItsSource()
    {
        _files.Admin("""{"udp": {"maxFlows": {"locked": false, "value": 1}}, "tcp": {"keepaliveCount": {"locked": true, "value": 2}}}""");
        _files.User("""{"dns": {"cacheSize": 3}}""");
        var settings = _files.Settings(Set("fragments.maxDatagrams", "4"));
        Assert.Equal("admin: " + _files.AdminPath, settings.SourceOf(SettingsSchema.UdpMaxFlows).ToString());
        Assert.Equal("admin, locked: " + _files.AdminPath, settings.SourceOf(SettingsSchema.TcpKeepaliveCount).ToString());
        Assert.Equal("file " + _files.UserPath, settings.SourceOf(SettingsSchema.DnsCacheSize).ToString());
        Assert.Equal("flag --set fragments.maxDatagrams=4", settings.SourceOf(SettingsSchema.FragmentsMaxDatagrams).ToString());
        Assert.Equal("default", settings.SourceOf(SettingsSchema.TcpMaxConnections).ToString());
    }

    [Fact]
    public void TheLaterOfTwoFlagsWins()
    {
        var settings = _files.Settings(Set("udp.maxFlows", "10"), Set("udp.maxFlows", "20"));
        Assert.Equal(20, settings.Udp.MaxFlows);
        Assert.Equal("flag --set udp.maxFlows=20", settings.SourceOf(SettingsSchema.UdpMaxFlows).ToString());
    }

    [Fact]
    public void AddressesDeriveFromAnotherVpnkitCidr()
    {
        _files.User("""{"vpnkitCIDR": "10.99.0.0/16"}""");
        var settings = _files.Settings();
        Assert.Equal(Ipv4Address.Parse("10.99.0.1"), settings.Network.GatewayIp);
        Assert.Equal(Ipv4Address.Parse("10.99.255.254"), settings.Network.HostIp);
        Assert.Equal(Ipv4Address.Parse("10.99.0.3"), settings.Network.FirstGuestIp);
        Assert.Equal(SettingSource.Default, settings.SourceOf(SettingsSchema.GatewayIp));
    }

    [Fact]
    public void AddressesDeriveFromAnotherIpv6Prefix()
    {
        var settings = _files.Settings(Set("network.ipv6Prefix", "fd00:1:2:3::/64"));
        Assert.Equal(Ipv6Address.Parse("fd00:1:2:3::1"), settings.Network.GatewayIpv6);
        Assert.Equal(Ipv6Address.Parse("fd00:1:2:3::254"), settings.Network.HostIpv6);
        Assert.Equal(Ipv6Address.Parse("fd00:1:2:3::3"), settings.Network.FirstGuestIpv6);
    }

    [Fact]
    public void AnExplicitAddressOverridesTheDerivedOne()
    {
        _files.User("""{"vpnkitCIDR": "10.0.0.0/8", "network": {"gatewayIP": "10.1.2.3"}}""");
        var settings = _files.Settings();
        Assert.Equal(Ipv4Address.Parse("10.1.2.3"), settings.Network.GatewayIp);
        Assert.Equal(Ipv4Address.Parse("10.255.255.254"), settings.Network.HostIp);
    }

    [Fact]
    public void DottedAndNestedKeysAreTheSameKey()
    {
        _files.User("""{"tcp.maxConnections": 5, "udp": {"maxFlows": 6}, "dns": {"timeoutSeconds": 0.25}}""");
        var settings = _files.Settings();
        Assert.Equal(5, settings.Tcp.MaxConnections);
        Assert.Equal(6, settings.Udp.MaxFlows);
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.Dns.Timeout);
    }

    [Fact]
    public void DurationsMayBeFractional()
    {
        var settings = _files.Settings(Set("tcp.connectTimeoutSeconds", "0.1"), Set("udp.idleTimeoutSeconds", "1.5"));
        Assert.Equal(TimeSpan.FromMilliseconds(100), settings.Tcp.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), settings.Udp.IdleTimeout);
    }

    [Fact]
    public void CommentsAndTrailingCommasAreAllowed()
    {
        _files.User("""
            {
              // a comment
              "tcp": {"maxConnections": 9,},
            }
            """);
        Assert.Equal(9, _files.Settings().Tcp.MaxConnections);
    }

    [Fact]
    public void CreateAppliesOverridesForOtherTests()
    {
        var settings = Settings.Create(("network.mtu", "1400"), ("dns.cacheSize", "0"));
        Assert.Equal(1400, settings.Network.Mtu);
        Assert.Equal(0, settings.Dns.CacheSize);
        Assert.Throws<SettingsException>(() => Settings.Create(("network.mtu", "1")));
    }
}
