using Usernet.Config;
using static Usernet.Tests.Config.SettingsFiles;

namespace Usernet.Tests.Config;

public sealed class AdminLockTests : IDisposable
{
    private readonly SettingsFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void ALockOnASectionLocksEveryKeyUnderIt()
    {
        _files.Admin("""{"proxy": {"locked": true, "value": {"mode": "manual", "http": "http://proxy.corp:3128"}}}""");
        _files.User("""{"proxy": {"https": "http://mine:1"}}""");
        var result = _files.Load();
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(ProxyMode.Manual, result.Settings.Proxy.Mode);
        Assert.Equal("proxy.corp", result.Settings.Proxy.Http!.Host);
        // Not named in the lock, so locked at its default.
        Assert.Null(result.Settings.Proxy.Https);
        var locked = SettingSource.Admin(_files.AdminPath, locked: true);
        Assert.All(SettingsSchema.Under("proxy"), key => Assert.Equal(locked, result.Settings.SourceOf(key)));
        Assert.Contains("proxy.https is locked by the administrator", Assert.Single(result.Warnings).Message);

        var errors = _files.Errors(Set("proxy.pac", "http://pac.corp/proxy.pac"));
        Assert.Equal([$"--set proxy.pac=http://pac.corp/proxy.pac: proxy.pac is locked by the administrator in {_files.AdminPath}"], errors);
    }

    [Fact]
    public void AnAdminCanKeepTheMetricsListenerOff()
    {
        _files.Admin("""{"metrics": {"locked": true, "value": {"listen": ""}}}""");
        Assert.Null(_files.Settings().Metrics.Listen);
        var errors = _files.Errors(Set("metrics.listen", "127.0.0.1:9100"));
        Assert.Equal([$"--set metrics.listen=127.0.0.1:9100: metrics.listen is locked by the administrator in {_files.AdminPath}"], errors);
    }

    [Fact]
    public void DockersInlineFormLocksASection()
    {
        _files.Admin("""
            {
              "configurationFileVersion": 2,
              "containersProxy": {"locked": true, "mode": "manual", "http": "http://proxy.corp:3128", "exclude": [], "pac": "", "transparentPorts": "80,443"}
            }
            """);
        var settings = _files.Settings();
        Assert.Equal(ProxyMode.Manual, settings.ContainersProxy.Mode);
        Assert.Equal(3128, settings.ContainersProxy.Http!.Port);
        Assert.True(settings.ContainersProxy.TransparentPorts.Contains(443));
        Assert.False(settings.ContainersProxy.TransparentPorts.Contains(8080));
        Assert.True(settings.SourceOf(SettingsSchema.ContainersProxy.EmbeddedPac).Locked);
        Assert.False(settings.SourceOf(SettingsSchema.Proxy.Mode).Locked);
    }

    [Fact]
    public void ALockOnTheWholeNetworkSectionLocksTheDerivedAddresses()
    {
        _files.Admin("""{"network": {"locked": true, "value": {"mtu": 1500}}, "vpnkitCIDR": {"locked": true, "value": "10.5.0.0/16"}}""");
        var settings = _files.Settings();
        Assert.Equal(1500, settings.Network.Mtu);
        Assert.Equal(Usernet.Wire.Ipv4Address.Parse("10.5.0.1"), settings.Network.GatewayIp);
        Assert.True(settings.SourceOf(SettingsSchema.GatewayIp).Locked);
        Assert.Contains("network.gatewayIP is locked", Assert.Single(_files.Errors(Set("network.gatewayIP", "10.5.0.2"))));
    }

    [Fact]
    public void ALockWithoutAValuePinsTheDefault()
    {
        _files.Admin("""{"dns": {"hostResolver": {"locked": true}}}""");
        _files.User("""{"dns": {"hostResolver": false}}""");
        var result = _files.Load();
        Assert.True(result.Succeeded);
        Assert.True(result.Settings.Dns.HostResolver);
        Assert.True(result.Settings.SourceOf(SettingsSchema.DnsHostResolver).Locked);
        Assert.Single(result.Warnings);
    }

    [Fact]
    public void AnUnlockedSectionGivesDefaults()
    {
        _files.Admin("""{"dns": {"locked": false, "value": {"cacheSize": 10, "servers": ["10.0.0.53"]}}}""");
        _files.User("""{"dns": {"cacheSize": 20}}""");
        var result = _files.Load();
        Assert.True(result.Succeeded);
        Assert.Empty(result.Warnings);
        Assert.Equal(20, result.Settings.Dns.CacheSize);
        Assert.Equal("10.0.0.53:53", Assert.Single(result.Settings.Dns.Servers).ToString());
    }

    [Fact]
    public void AnAdminValueIsCheckedLikeAnyOther()
    {
        _files.Admin("""{"tcp": {"maxConnections": {"locked": true, "value": 0}}}""");
        Assert.Equal([$"{_files.AdminPath}: tcp.maxConnections: 0 is out of range (1..1000000)"], _files.Errors());
    }

    [Fact]
    public void AUserFileCannotLock()
    {
        _files.User("""{"tcp": {"maxConnections": {"locked": true, "value": 5}}}""");
        Assert.Equal([$"{_files.UserPath}: tcp.maxConnections: only admin-settings.json can lock a setting"], _files.Errors());
    }

    [Fact]
    public void ALockMixingValueAndInlineKeysIsRefused()
    {
        _files.Admin("""{"proxy": {"locked": true, "value": {"mode": "manual"}, "http": "http://p:1"}}""");
        Assert.Contains("inside \"value\" or beside \"locked\", not both", Assert.Single(_files.Errors()));
    }

    [Fact]
    public void ALeafLockTakesOnlyLockedAndValue()
    {
        _files.Admin("""{"network": {"mtu": {"locked": true, "mtu": 1400}}}""");
        Assert.Contains("a lock has \"locked\" and \"value\", not \"mtu\"", Assert.Single(_files.Errors()));
    }

    [Fact]
    public void LockedMustBeABoolean()
    {
        _files.Admin("""{"network": {"mtu": {"locked": "yes", "value": 1400}}}""");
        Assert.Contains("\"locked\" must be true or false", Assert.Single(_files.Errors()));
    }
}
