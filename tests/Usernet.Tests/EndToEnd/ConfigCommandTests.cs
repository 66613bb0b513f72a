using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>`usernet config` and settings errors, through the real binary and real files.</summary>
public sealed class ConfigCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("usernet-config-").FullName;

    private string Write(string name, string json)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, json);
        return path;
    }

    private ProcessResult Usernet(string? admin, params string[] arguments) =>
        ProcessRunner.Run(TestEnvironment.UsernetBinary, arguments, TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string>
            {
                ["USERNET_ADMIN_SETTINGS"] = admin ?? Path.Combine(_directory, "no-admin.json"),
                ["XDG_CONFIG_HOME"] = _directory,
            });

    [RootFact]
    public void ConfigShowsEachValueWithItsSource()
    {
        string settings = Write("settings.json", """{ "network": { "mtu": 9000 }, "udp": { "maxFlows": 100 } }""");
        string admin = Write("admin.json", """{ "tcp": { "maxConnections": { "locked": true, "value": 500 } } }""");
        var result = Usernet(admin, "config", "--settings", settings, "--set", "udp.maxFlows=200");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"network.mtu = 9000    (file {settings})", result.Stdout);
        Assert.Contains("udp.maxFlows = 200    (flag --set udp.maxFlows=200)", result.Stdout);
        Assert.Contains("tcp.maxConnections = 500    (admin, locked", result.Stdout);
        Assert.Contains("vpnkitCIDR = 192.168.65.0/24    (default)", result.Stdout);
    }

    [RootFact]
    public void AFlagCannotChangeALockedKey()
    {
        string admin = Write("admin.json", """{ "network": { "mtu": { "locked": true, "value": 1400 } } }""");
        var result = Usernet(admin, "run", "--mtu", "9000", "--", "true");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--mtu: network.mtu is locked by the administrator", result.Stderr);
        var locked = Usernet(admin, "run", "--addressing", "dhcp", "--", "cat", "/sys/class/net/tap0/mtu");
        Assert.True(locked.ExitCode == 0, locked.ToString());
        Assert.Equal("1400", locked.Stdout.Trim());
    }

    [RootFact]
    public void InvalidSettingsNameTheFileTheKeyAndTheProblem()
    {
        string settings = Write("settings.json", """{ "vpnkitCIDR": "192.168.65.0/33", "network": { "mtu": 70000 } }""");
        var result = Usernet(null, "run", "--settings", settings, "--", "true");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{settings}: vpnkitCIDR", result.Stderr);
        Assert.Contains($"{settings}: network.mtu: 70000 is out of range (576..65520)", result.Stderr);
        var unknown = Usernet(null, "config", "--set", "network.mtuu=1500");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("network.mtuu", unknown.Stderr);
        Assert.Contains("network.mtu", unknown.Stderr);
    }

    [RootFact]
    public void GatewayEqualToHostIsRefused()
    {
        var result = Usernet(null, "config", "--set", "network.gatewayIP=192.168.65.254");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("network.gatewayIP", result.Stderr);
        Assert.Contains("host", result.Stderr);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
