using Usernet.Config;
using static Usernet.Tests.Config.SettingsFiles;

namespace Usernet.Tests.Config;

public sealed class RedactionTests : IDisposable
{
    private const string Secret = "s3cr3t-Pa55";

    private readonly SettingsFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void AProxyUrlParsesIntoItsParts()
    {
        Assert.True(ProxyUri.TryParse($"http://alice:{Secret}@proxy.corp:3128", out var uri, out _));
        Assert.Equal(new ProxyUri("http", "proxy.corp", 3128, "alice", Secret), uri);
        Assert.True(ProxyUri.TryParse("socks5h://[fd00::1]", out uri, out _));
        Assert.Equal(new ProxyUri("socks5h", "fd00::1", 1080, null, null), uri);
        Assert.True(uri.IsSocks);
        Assert.True(ProxyUri.TryParse("HTTPS://u%40corp:p%3Aw@10.0.0.1/", out uri, out _));
        Assert.Equal(new ProxyUri("https", "10.0.0.1", 443, "u@corp", "p:w"), uri);
        Assert.Equal("https://u%40corp:p%3Aw@10.0.0.1:443", uri.ToUnmaskedString());
    }

    [Fact]
    public void AProxyUrlShowsNoPassword()
    {
        Assert.True(ProxyUri.TryParse($"http://alice:{Secret}@proxy.corp:3128", out var uri, out _));
        Assert.Equal("http://alice:***@proxy.corp:3128", uri.ToString());
        Assert.True(ProxyUri.TryParse("http://alice@proxy.corp", out uri, out _));
        Assert.Equal("http://alice@proxy.corp:80", uri.ToString());
    }

    [Theory]
    [InlineData($"http://alice:{Secret}@proxy:3128", "http://alice:***@proxy:3128")]
    [InlineData($"x http://alice:{Secret}@@proxy y", "x http://alice:***@proxy y")]
    [InlineData($"http://alice:{Secret}/x@proxy", "http://alice:***@proxy")]
    [InlineData($"socks5://:{Secret}@proxy", "socks5://:***@proxy")]
    [InlineData($"--set proxy.http=alice:{Secret}@proxy", "--set proxy.http=alice:***@proxy")]
    [InlineData($"\"alice:{Secret} x@proxy\"", "\"alice:***@proxy\"")]
    [InlineData("http://proxy.corp:3128", "http://proxy.corp:3128")]
    [InlineData("http://alice@proxy.corp:3128", "http://alice@proxy.corp:3128")]
    [InlineData("[fd00::1]:53", "[fd00::1]:53")]
    public void RedactionMasksPasswordsInAnyText(string text, string masked)
    {
        Assert.Equal(masked, Redaction.Redact(text));
    }

    [Fact]
    public void PrintingShowsNoPassword()
    {
        _files.Admin($$$"""{"proxy": {"locked": true, "mode": "manual", "http": "http://alice:{{{Secret}}}@proxy.corp:3128"}}""");
        var settings = _files.Settings(Set("containersProxy.https", $"socks5://bob:{Secret}@socks.corp:1080"));
        string text = SettingsPrinter.ToText(settings);
        string json = SettingsPrinter.ToJson(settings);
        Assert.DoesNotContain(Secret, text);
        Assert.DoesNotContain(Secret, json);
        Assert.Contains($"proxy.http = http://alice:***@proxy.corp:3128    (admin, locked: {_files.AdminPath})\n", text);
        Assert.Contains("containersProxy.https = socks5://bob:***@socks.corp:1080    (flag --set containersProxy.https=socks5://bob:***@socks.corp:1080)\n", text);
        // The proxy code still gets the password.
        Assert.Equal(Secret, settings.ContainersProxy.Https!.Password);
    }

    [Fact]
    public void TheSocksPasswordIsShownNowhere()
    {
        _files.User($$$"""{"socks": {"user": "alice", "password": "{{{Secret}}}"}}""");
        var fromFile = _files.Settings();
        Assert.True(SettingOverride.TryParseAssignment($"socks.password={Secret}", out var flag));
        var fromFlag = _files.Settings(flag);
        foreach (var settings in new[] { fromFile, fromFlag })
        {
            Assert.DoesNotContain(Secret, SettingsPrinter.ToText(settings));
            Assert.DoesNotContain(Secret, SettingsPrinter.ToJson(settings));
            Assert.Equal(Secret, settings.Socks.Password);
        }
        Assert.Contains("socks.password = ***    (flag --set socks.password=***)\n", SettingsPrinter.ToText(fromFlag));
        Assert.DoesNotContain(Secret, flag.ToString());
        Assert.DoesNotContain(Secret, new SettingsInput { Flags = [flag] }.ToString());
    }

    [Theory]
    [InlineData($"http://alice:{Secret}@proxy.corp:99999")]
    [InlineData($"ftp://alice:{Secret}@proxy.corp")]
    [InlineData($"alice:{Secret}@proxy.corp")]
    [InlineData($"alice:{Secret}://x@proxy.corp")]
    [InlineData($"http://alice:{Secret}@proxy.corp/path")]
    [InlineData($"http://alice:{Secret} x@proxy.corp")]
    public void ErrorsShowNoPassword(string url)
    {
        _files.User($$$"""{"proxy": {"https": "{{{url}}}"}}""");
        var result = _files.Load(Set("proxy.http", url), new SettingOverride("containersProxy.http", url, "--containers-proxy"));
        Assert.Equal(3, result.Errors.Count);
        Assert.All(result.Errors, error =>
        {
            Assert.DoesNotContain(Secret, error.ToString());
            Assert.Contains("***", error.ToString());
        });
        Assert.DoesNotContain(Secret, new SettingsException(result.Errors).Message);
    }

    [Fact]
    public void AnErrorStaysReadableAroundTheMask()
    {
        var error = Assert.Single(_files.Errors(new SettingOverride("proxy.http", $"ftp://alice:{Secret}@proxy", "--proxy")));
        Assert.Equal("--proxy: proxy.http: \"ftp://alice:***@proxy\" is not a valid proxy URL: the scheme is not one of http, https, socks5, socks5h", error);
    }

    [Fact]
    public void InputsShowNoPasswordWhenLogged()
    {
        var flag = Set("proxy.http", $"http://alice:{Secret}@proxy:1");
        var file = new SettingsFileText("/etc/usernet/admin-settings.json", $$$"""{"proxy": {"http": "http://alice:{{{Secret}}}@proxy:1"}}""");
        Assert.DoesNotContain(Secret, flag.ToString());
        Assert.DoesNotContain(Secret, file.ToString());
        Assert.DoesNotContain(Secret, new SettingsInput { Admin = file, Flags = [flag] }.ToString());
    }

    [Fact]
    public void ALockErrorShowsNoPasswordFromTheFlag()
    {
        _files.Admin("""{"proxy": {"locked": true, "value": {}}}""");
        var error = Assert.Single(_files.Errors(Set("proxy.http", $"http://alice:{Secret}@proxy:1")));
        Assert.Equal($"--set proxy.http=http://alice:***@proxy:1: proxy.http is locked by the administrator in {_files.AdminPath}", error);
    }
}
