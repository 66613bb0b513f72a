using Usernet.Config;
using static Usernet.Tests.Config.SettingsFiles;

namespace Usernet.Tests.Config;

public sealed class SettingsFileErrorTests : IDisposable
{
    private readonly SettingsFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData("""{"tcp": {"maxConection": 5}}""", "tcp.maxConection", "tcp.maxConnections")]
    [InlineData("""{"vpnKitCIDR": "10.0.0.0/8"}""", "vpnKitCIDR", "vpnkitCIDR")]
    [InlineData("""{"mtu": 1400}""", "mtu", "network.mtu")]
    [InlineData("""{"tpc": {"maxConnections": 5}}""", "tpc", "tcp")]
    [InlineData("""{"dns": {"server": ["1.1.1.1"]}}""", "dns.server", "dns.servers")]
    public void AnUnknownKeyIsAnErrorWithASuggestion(string json, string key, string suggestion)
    {
        _files.User(json);
        Assert.Equal([$"{_files.UserPath}: unknown key \"{key}\"; did you mean \"{suggestion}\"?"], _files.Errors());
    }

    [Fact]
    public void AnUnknownKeyFarFromAnyIsAnErrorWithoutASuggestion()
    {
        _files.Admin("""{"exposeDockerAPIOnTCP2375": {"locked": true, "value": false}}""");
        Assert.Equal([$"{_files.AdminPath}: unknown key \"exposeDockerAPIOnTCP2375\""], _files.Errors());
    }

    [Fact]
    public void AnUnknownKeyInAFlagIsAnError()
    {
        Assert.Equal(["--set udp.maxFlow=5: unknown key \"udp.maxFlow\"; did you mean \"udp.maxFlows\"?"], _files.Errors(Set("udp.maxFlow", "5")));
    }

    [Fact]
    public void AFlagMustNameAKeyNotASection()
    {
        Assert.Equal(["--set tcp=5: tcp is a group of settings; set one of its keys, such as tcp.maxConnections"], _files.Errors(Set("tcp", "5")));
    }

    [Fact]
    public void ASectionMustBeAnObject()
    {
        _files.User("""{"tcp": 5}""");
        Assert.Equal([$"{_files.UserPath}: tcp is a group of settings (tcp.maxConnections, tcp.connectTimeoutSeconds, tcp.keepaliveIdleSeconds, …); expected an object"], _files.Errors());
    }

    [Fact]
    public void AJsonSyntaxErrorNamesTheLineAndColumn()
    {
        _files.User("{\n  \"tcp\": {\n    \"maxConnections\": 5\n    \"keepaliveCount\": 3\n  }\n}\n");
        string error = Assert.Single(_files.Errors());
        Assert.StartsWith($"{_files.UserPath}: invalid JSON at line 4, column 5: ", error);
    }

    [Fact]
    public void TheTopMustBeAnObject()
    {
        _files.User("[1, 2]");
        Assert.Equal([$"{_files.UserPath}: expected a JSON object of settings at the top"], _files.Errors());
    }

    [Fact]
    public void AValueOfTheWrongJsonKindNamesTheKind()
    {
        _files.User("""{"tcp": {"maxConnections": "5000"}, "network": {"hostLoopback": "yes"}}""");
        Assert.Equal(
        [
            $"{_files.UserPath}: network.hostLoopback: expected true or false, not a string",
            $"{_files.UserPath}: tcp.maxConnections: expected a whole number, not a string",
        ], _files.Errors());
    }

    [Fact]
    public void AKeySetTwiceIsAnError()
    {
        _files.User("""{"tcp.maxConnections": 5, "tcp": {"maxConnections": 6}}""");
        Assert.Equal([$"{_files.UserPath}: tcp.maxConnections is set more than once"], _files.Errors());
    }

    [Fact]
    public void EveryErrorIsReportedTogether()
    {
        _files.Admin("""{"bogus": 1}""");
        _files.User("""{"tcp": {"maxConnections": 0}, "udp": {"maxFlows": -1}}""");
        var errors = _files.Errors(Set("network.mtu", "10"), Set("nope", "1"));
        Assert.Equal(5, errors.Length);
        Assert.Contains(errors, e => e.StartsWith(_files.AdminPath + ": unknown key \"bogus\"", StringComparison.Ordinal));
        Assert.Contains("--set nope=1: unknown key \"nope\"", errors);
        Assert.Contains("--set network.mtu=10: network.mtu: 10 is out of range (576..65520)", errors);
        Assert.Contains($"{_files.UserPath}: tcp.maxConnections: 0 is out of range (1..1000000)", errors);
        Assert.Contains($"{_files.UserPath}: udp.maxFlows: -1 is out of range (1..1000000)", errors);
    }

    [Fact]
    public void ABrokenValueIsReportedEvenWhenAFlagOverridesIt()
    {
        _files.User("""{"tcp": {"maxConnections": 0}}""");
        Assert.Equal([$"{_files.UserPath}: tcp.maxConnections: 0 is out of range (1..1000000)"], _files.Errors(Set("tcp.maxConnections", "5")));
    }

    [Fact]
    public void AMissingDefaultUserFileIsFine()
    {
        Assert.True(_files.Load().Succeeded);
    }

    [Fact]
    public void AMissingExplicitUserFileIsAnError()
    {
        string path = Path.Combine(_files.Directory, "nope.json");
        var result = SettingsLoader.Load(new SettingsInput { User = SettingsFileText.Read(path, mustExist: true) });
        Assert.Equal([$"{path}: the file does not exist"], result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void ErrorsCarrySourceAndKey()
    {
        _files.User("""{"network": {"mtu": 70000}}""");
        var error = Assert.Single(_files.Load().Errors);
        Assert.Equal(_files.UserPath, error.Source);
        Assert.Equal("network.mtu", error.Key);
        Assert.Equal($"{_files.UserPath}: network.mtu: 70000 is out of range (576..65520)", error.ToString());
    }
}
