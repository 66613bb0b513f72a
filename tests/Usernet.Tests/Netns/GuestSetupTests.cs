using System.Text.Json;
using Usernet.Netns;
using Usernet.Wire;

namespace Usernet.Tests.Netns;

public sealed class GuestSetupTests
{
    [Fact]
    public void EveryFieldSurvivesTheTripToTheInit()
    {
        var setup = new GuestSetup
        {
            TapName = "eth7",
            Mac = new MacAddress(0x02_12_34_56_78_9A),
            Mtu = 9000,
            Addressing = GuestAddressing.Dhcp,
            Address = Ipv4Address.Parse("10.99.0.3"),
            PrefixLength = 16,
            Gateway = Ipv4Address.Parse("10.99.0.1"),
            Nameservers = ["10.99.0.1", "fd00::1"],
            SearchDomains = ["corp.example", "example.org"],
            PrivateResolvConf = false,
            CgroupNamespace = true,
            PrivateRun = true,
            Binds = [new GuestBind("/run/usernet/docker/guest", "/run/usernet"), new GuestBind("/var/lib/x y/etc", "/etc/docker")],
        };
        var back = GuestSetup.FromJson(setup.ToJson());
        Assert.Equal(setup.TapName, back.TapName);
        Assert.Equal(setup.Mac, back.Mac);
        Assert.Equal(setup.Mtu, back.Mtu);
        Assert.Equal(setup.Addressing, back.Addressing);
        Assert.Equal(setup.Address, back.Address);
        Assert.Equal(setup.PrefixLength, back.PrefixLength);
        Assert.Equal(setup.Gateway, back.Gateway);
        Assert.Equal(setup.Nameservers, back.Nameservers);
        Assert.Equal(setup.SearchDomains, back.SearchDomains);
        Assert.Equal(setup.PrivateResolvConf, back.PrivateResolvConf);
        Assert.True(back.CgroupNamespace);
        Assert.True(back.PrivateRun);
        Assert.Equal(setup.Binds, back.Binds);
    }

    [Theory]
    [InlineData(nameof(GuestAddressing.Static))]
    [InlineData(nameof(GuestAddressing.None))]
    public void DefaultsAndEmptyListsRoundTrip(string mode)
    {
        var addressing = Enum.Parse<GuestAddressing>(mode);
        var back = GuestSetup.FromJson(new GuestSetup { Addressing = addressing }.ToJson());
        Assert.Equal("tap0", back.TapName);
        Assert.Equal(addressing, back.Addressing);
        Assert.Equal(MacAddress.Zero, back.Mac);
        Assert.Empty(back.Nameservers);
        Assert.Empty(back.SearchDomains);
        Assert.True(back.PrivateResolvConf);
    }

    [Fact]
    public void TheJsonSpellsAddressesAsText()
    {
        // Read by a person debugging the init as much as by the init itself.
        string json = new GuestSetup { Mac = new MacAddress(0x02_00_00_00_00_01), Address = Ipv4Address.Parse("192.168.65.3") }.ToJson();
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal("02:00:00:00:00:01", root.GetProperty("mac").GetString());
        Assert.Equal("192.168.65.3", root.GetProperty("address").GetString());
        Assert.Equal("Static", root.GetProperty("addressing").GetString());
    }
}
