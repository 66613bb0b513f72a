using Usernet.Config;
using Usernet.Wire;
using static Usernet.Tests.Config.SettingsFiles;

namespace Usernet.Tests.Config;

public sealed class FlagParsingTests : IDisposable
{
    private readonly SettingsFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void BooleansAreTrueOrFalse()
    {
        var settings = _files.Settings(Set("network.hostLoopback", "false"), Set("dns.hostResolver", "true"));
        Assert.False(settings.Network.HostLoopback);
        Assert.True(settings.Dns.HostResolver);
    }

    [Fact]
    public void ListsAreCommaSeparated()
    {
        var settings = _files.Settings(Set("dns.servers", "1.1.1.1, 10.0.0.2:5353,[fd00::1]:5300,fd00::2"));
        Assert.Equal(
            [
                new IpEndpoint(Ipv4Address.Parse("1.1.1.1"), 53),
                new IpEndpoint(Ipv4Address.Parse("10.0.0.2"), 5353),
                new IpEndpoint(Ipv6Address.Parse("fd00::1"), 5300),
                new IpEndpoint(Ipv6Address.Parse("fd00::2"), 53),
            ],
            settings.Dns.Servers);
        Assert.Empty(_files.Settings(Set("dns.servers", "")).Dns.Servers);
    }

    [Fact]
    public void ProxyExclusionsAreAListInEitherForm()
    {
        _files.User("""{"proxy": {"exclude": "localhost, .corp,10.0.0.0/8"}, "containersProxy": {"exclude": ["*.internal", "127.0.0.1"]}}""");
        var settings = _files.Settings();
        Assert.Equal(["localhost", ".corp", "10.0.0.0/8"], settings.Proxy.Exclude);
        Assert.Equal(["*.internal", "127.0.0.1"], settings.ContainersProxy.Exclude);
    }

    [Fact]
    public void MapsAreNameEqualsListSeparatedBySemicolons()
    {
        var settings = _files.Settings(
            Set("dns.routes", "corp.example=10.0.0.1,10.0.0.2:5353; Lab.Example.=[fd00::53]:53"),
            Set("dns.records", "db.test=10.1.1.1,fd00::10;cache=10.1.1.2"));
        Assert.Equal(["corp.example", "lab.example"], settings.Dns.Routes.Keys);
        Assert.Equal("10.0.0.2:5353", settings.Dns.Routes["corp.example"][1].ToString());
        Assert.Equal("[fd00::53]:53", Assert.Single(settings.Dns.Routes["lab.example"]).ToString());
        Assert.Equal([IpAddress.Parse("10.1.1.1"), IpAddress.Parse("fd00::10")], settings.Dns.Records["db.test"]);
        Assert.Equal([IpAddress.Parse("10.1.1.2")], settings.Dns.Records["cache"]);
    }

    [Fact]
    public void MapsReadFromJsonObjects()
    {
        _files.User("""{"dns": {"routes": {"corp.example": ["10.0.0.1"], "LAB.example.": "10.0.0.2, 10.0.0.3"}, "records": {"db": ["10.1.1.1"]}}}""");
        var settings = _files.Settings();
        Assert.Equal(2, settings.Dns.Routes["lab.example"].Count);
        Assert.Equal(IpAddress.Parse("10.1.1.1"), Assert.Single(settings.Dns.Records["db"]));
    }

    [Theory]
    [InlineData("corp.example", "\"corp.example\" is not name=value[,value...]; write entries as name=a,b;name2=c")]
    [InlineData("=10.0.0.1", "\"=10.0.0.1\" is not name=value[,value...]; write entries as name=a,b;name2=c")]
    [InlineData("a=10.0.0.1;A=10.0.0.2", "a is given twice")]
    [InlineData("bad_domain!=10.0.0.1", "\"bad_domain!\" is not a valid domain name: '!' is not a letter, digit, '-' or '_'")]
    public void ABadMapIsRefusedClearly(string value, string problem)
    {
        Assert.Equal([$"--set dns.routes={value}: dns.routes: {problem}"], _files.Errors(Set("dns.routes", value)));
    }

    [Fact]
    public void SearchDomainsMayBeNullForTheHosts()
    {
        Assert.Equal(["corp.example", "lab"], _files.Settings(Set("dns.searchDomains", "Corp.Example.,lab")).Dns.SearchDomains);
        Assert.Empty(_files.Settings(Set("dns.searchDomains", ""))!.Dns.SearchDomains!);
        _files.User("""{"dns": {"searchDomains": ["corp"]}}""");
        Assert.Null(_files.Settings(Set("dns.searchDomains", "null")).Dns.SearchDomains);
        _files.User("""{"dns": {"searchDomains": null}}""");
        Assert.Null(_files.Settings().Dns.SearchDomains);
    }

    [Fact]
    public void TheMtuMayBeAuto()
    {
        _files.User("""{"network": {"mtu": 9000}}""");
        Assert.Equal(9000, _files.Settings().Network.Mtu);
        Assert.Null(_files.Settings(Set("network.mtu", "auto")).Network.Mtu);
    }

    [Fact]
    public void EveryDefaultPrintsAsTextThatParsesBack()
    {
        var settings = Settings.CreateDefault();
        foreach (var entry in settings.Entries)
        {
            Assert.True(entry.Definition.TryParseText(entry.FormattedValue, out object? parsed, out string? error), $"{entry.Key}: {error}");
            Assert.True(entry.Definition.Equal(entry.Value, parsed), entry.Key);
        }
    }

    [Fact]
    public void SetTakesKeyEqualsValue()
    {
        Assert.True(SettingOverride.TryParseAssignment("network.mtu=1400", out var setting));
        Assert.Equal(new SettingOverride("network.mtu", "1400", "--set network.mtu=1400"), setting);
        Assert.True(SettingOverride.TryParseAssignment("dns.routes=a=1.1.1.1", out setting));
        Assert.Equal("a=1.1.1.1", setting.Value);
        Assert.False(SettingOverride.TryParseAssignment("network.mtu", out setting));
        Assert.Equal(["--set network.mtu: expected KEY=VALUE"], _files.Errors(setting));
    }
}
