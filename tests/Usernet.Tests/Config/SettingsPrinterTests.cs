using System.Text.Json;
using Usernet.Config;
using static Usernet.Tests.Config.SettingsFiles;

namespace Usernet.Tests.Config;

public sealed class SettingsPrinterTests : IDisposable
{
    private readonly SettingsFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void TextHasOneLineAKeyInSchemaOrderWithItsSource()
    {
        _files.User("""{"dns": {"cacheSize": 10}}""");
        string[] lines = SettingsPrinter.ToText(_files.Settings(new SettingOverride("network.mtu", "1400", "--mtu"))).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(SettingsSchema.All.Select(d => d.Key), lines.Select(line => line[..line.IndexOf(" = ", StringComparison.Ordinal)]));
        Assert.Equal("vpnkitCIDR = 192.168.65.0/24    (default)", lines[0]);
        Assert.Contains("network.mtu = 1400    (flag --mtu)", lines);
        Assert.Contains("tcp.maxConnections = 16384    (default)", lines);
        Assert.Contains($"dns.cacheSize = 10    (file {_files.UserPath})", lines);
        Assert.Contains("dns.timeoutSeconds = 2    (default)", lines);
        Assert.Contains("proxy.http = \"\"    (default)", lines);
        Assert.Contains("dns.searchDomains = null    (default)", lines);
    }

    [Fact]
    public void TextShowsListsMapsAndOddStringsAsTheyWouldBeTyped()
    {
        var settings = _files.Settings(
            Set("dns.servers", "1.1.1.1,[fd00::1]:5353"),
            Set("dns.routes", "b.corp=10.0.0.2;a.corp=10.0.0.1"),
            Set("proxy.embeddedPac", "function FindProxyForURL(u, h) {\n  return \"DIRECT\";\n}"));
        string text = SettingsPrinter.ToText(settings);
        Assert.Contains("dns.servers = 1.1.1.1:53,[fd00::1]:5353    (flag", text);
        Assert.Contains("dns.routes = a.corp=10.0.0.1:53;b.corp=10.0.0.2:53    (flag", text);
        Assert.Contains("proxy.embeddedPac = \"function FindProxyForURL(u, h) {\\n  return \\\"DIRECT\\\";\\n}\"    (flag", text);
    }

    [Fact]
    public void JsonHoldsValueAndSourceForEveryKey()
    {
        _files.Admin("""{"udp": {"maxFlows": {"locked": true, "value": 10}}}""");
        var settings = _files.Settings(
            new SettingOverride("network.mtu", "1400", "--mtu"),
            Set("dns.records", "db=10.0.0.5"),
            Set("tcp.connectTimeoutSeconds", "0.5"));
        using var json = JsonDocument.Parse(SettingsPrinter.ToJson(settings));
        var root = json.RootElement;
        Assert.Equal(SettingsSchema.All.Select(d => d.Key), root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1400, root.GetProperty("network.mtu").GetProperty("value").GetInt32());
        Assert.Equal("flag --mtu", root.GetProperty("network.mtu").GetProperty("source").GetString());
        Assert.Equal("192.168.65.0/24", root.GetProperty("vpnkitCIDR").GetProperty("value").GetString());
        Assert.Equal(0.5, root.GetProperty("tcp.connectTimeoutSeconds").GetProperty("value").GetDouble());
        Assert.Equal("10.0.0.5", root.GetProperty("dns.records").GetProperty("value").GetProperty("db")[0].GetString());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("dns.servers").GetProperty("value").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("dns.searchDomains").GetProperty("value").ValueKind);
        Assert.True(root.GetProperty("network.hostLoopback").GetProperty("value").GetBoolean());
        Assert.Equal($"admin, locked: {_files.AdminPath}", root.GetProperty("udp.maxFlows").GetProperty("source").GetString());
    }

    [Fact]
    public void PrintedJsonLoadsBackAsASettingsFile()
    {
        var settings = _files.Settings(Set("dns.routes", "corp=10.0.0.1"), Set("network.mtu", "9000"), Set("containersProxy.transparentPorts", "80,443"));
        using var printed = JsonDocument.Parse(SettingsPrinter.ToJson(settings));
        var file = printed.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetProperty("value").GetRawText());
        _files.User("{" + string.Join(",", file.Select(pair => $"\"{pair.Key}\": {pair.Value}")) + "}");
        var reloaded = _files.Settings();
        Assert.Empty(reloaded.ChangedSections(settings));
    }
}
