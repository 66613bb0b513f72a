using Usernet.Config;

namespace Usernet.Tests.Config;

public sealed class SettingsPathsTests
{
    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void AnExplicitPathWins()
    {
        var paths = SettingsPaths.Resolve("/tmp/mine.json", Environment(("XDG_CONFIG_HOME", "/x"), ("HOME", "/home/u")), isRoot: false);
        Assert.Equal(new SettingsPaths("/tmp/mine.json", true, SettingsPaths.DefaultAdminFile), paths);
    }

    [Fact]
    public void XdgConfigHomeComesNext()
    {
        var paths = SettingsPaths.Resolve(null, Environment(("XDG_CONFIG_HOME", "/x/config"), ("HOME", "/home/u")), isRoot: false);
        Assert.Equal("/x/config/usernet/settings.json", paths.UserFile);
        Assert.False(paths.UserFileExplicit);
    }

    [Fact]
    public void HomeIsTheFallbackAndARelativeXdgConfigHomeIsIgnored()
    {
        Assert.Equal("/home/u/.config/usernet/settings.json",
            SettingsPaths.Resolve(null, Environment(("HOME", "/home/u")), isRoot: false).UserFile);
        Assert.Equal("/home/u/.config/usernet/settings.json",
            SettingsPaths.Resolve(null, Environment(("XDG_CONFIG_HOME", "config"), ("HOME", "/home/u")), isRoot: false).UserFile);
    }

    [Fact]
    public void TheAdminFileMovesOnlyForRoot()
    {
        var environment = Environment((SettingsPaths.AdminFileVariable, "/tmp/admin.json"), ("HOME", "/root"));
        Assert.Equal("/tmp/admin.json", SettingsPaths.Resolve(null, environment, isRoot: true).AdminFile);
        Assert.Equal("/etc/usernet/admin-settings.json", SettingsPaths.Resolve(null, environment, isRoot: false).AdminFile);
    }

    [Fact]
    public void TheProcessEnvironmentResolves()
    {
        var paths = SettingsPaths.FromEnvironment(null);
        Assert.EndsWith("/usernet/settings.json", paths.UserFile);
    }

    [Fact]
    public void HostNetworksAreReadFromTheInterfaces()
    {
        var networks = HostNetwork.FromInterfaces();
        Assert.All(networks, network => Assert.NotEmpty(network.Interface));
        Assert.All(networks.Where(n => n.Interface == "lo"), n => Assert.True(n.Network.Contains(Usernet.Wire.Ipv4Address.Parse("127.0.0.1"))));
        // Every Linux machine has lo with 127.0.0.1/8: an empty list would have passed the above.
        Assert.Contains(networks, n => n.Interface == "lo" && n.Network.Contains(Usernet.Wire.Ipv4Address.Loopback));
    }
}
