using System.Text;
using Usernet.Services.Docker;
using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Tests.Services.Docker;

/// <summary>
/// What <c>usernet docker</c> routes into the guest and names for the host, from what dockerd
/// 20.10 lists (<see cref="DockerCaptures"/>); the end-to-end DockerSocksTests reach them.
/// </summary>
public sealed class ContainerNetworksTests
{
    private static readonly StackOptions Options = new();

    private static List<DockerNetwork> CapturedNetworks => DockerNetwork.ParseList(Encoding.UTF8.GetBytes(DockerCaptures.Networks));

    private static List<string> Routes(IEnumerable<DockerNetwork> networks, StackOptions options, List<(string Key, string Reason)>? skipped = null) =>
        ContainerNetworks.RoutesFor(networks, options, skipped ?? new()).Select(r => $"{r.Network}: {r.Route}").ToList();

    private static DockerNetwork Bridge(string name, params string[] subnets) => new(name + "-id", name, "bridge", false, subnets);

    [Fact]
    public void TheNetworksListReadsDriverInternalAndSubnets()
    {
        var networks = CapturedNetworks;
        Assert.Equal(["host", "bridge", "dnetnet", "dnetint", "none"], networks.Select(n => n.Name));
        Assert.Empty(networks[0].Subnets);
        Assert.Equal(["172.18.0.0/16", "fd00:dd::/64"], networks[2].Subnets);
        Assert.True(networks[3].Internal);
        Assert.Equal("null", networks[4].Driver);
    }

    [Fact]
    public void EveryBridgeSubnetIsRoutedThroughTheGuestsAddressOfItsFamily() =>
        Assert.Equal(
            ["bridge: 172.17.0.0/16 via 192.168.65.3", "dnetnet: 172.18.0.0/16 via 192.168.65.3", "dnetnet: fd00:dd::/64 via fdc4:f303:9324::3"],
            Routes(CapturedNetworks, Options));

    [Fact]
    public void AFamilyTurnedOffIsNotRouted()
    {
        Assert.Equal(["bridge: 172.17.0.0/16 via 192.168.65.3", "dnetnet: 172.18.0.0/16 via 192.168.65.3"], Routes(CapturedNetworks, Options with { Ipv6Enabled = false }));
        Assert.Equal(["dnetnet: fd00:dd::/64 via fdc4:f303:9324::3"], Routes(CapturedNetworks, Options with { Ipv4Enabled = false }));
    }

    [Fact]
    public void OtherDriversAndInternalNetworksAreNotRouted()
    {
        DockerNetwork[] networks =
        [
            new("m", "lan", "macvlan", false, ["10.1.0.0/24"]),
            new("i", "secret", "bridge", true, ["10.2.0.0/24"]),
            Bridge("open", "10.3.0.0/24"),
        ];
        Assert.Equal(["open: 10.3.0.0/24 via 192.168.65.3"], Routes(networks, Options));
    }

    [Fact]
    public void ASubnetOverlappingUsernetsOwnIsSkippedWithTheReason()
    {
        var skipped = new List<(string Key, string Reason)>();
        var routes = Routes([Bridge("clash", "192.168.0.0/16", "fdc4:f303:9324::/48", "fe80::/64", "not-a-subnet"), Bridge("fine", "10.4.0.0/24")], Options, skipped);
        Assert.Equal(["fine: 10.4.0.0/24 via 192.168.65.3"], routes);
        Assert.Equal(4, skipped.Count);
        Assert.Contains("overlaps Usernet's subnet 192.168.65.0/24", skipped[0].Reason);
        Assert.Contains("network clash", skipped[1].Reason);
        Assert.Contains("does not parse", skipped[3].Reason);
        Assert.Equal(4, skipped.Select(s => s.Key).Distinct().Count());
    }

    [Fact]
    public void ASubnetTheSettingsRouteAlreadyIsLeftToThem()
    {
        var options = Options with { GuestRoutes = [GuestRoute.V4(Ipv4Cidr.Parse("172.17.0.0/16"), Ipv4Address.Parse("192.168.65.4"))] };
        Assert.DoesNotContain(Routes(CapturedNetworks, options), r => r.StartsWith("bridge:", StringComparison.Ordinal));
    }

    [Fact]
    public void ContainersAreNamedByNameAndComposeServiceWithEveryAddress()
    {
        var containers = ContainerAddresses.ParseList(Encoding.UTF8.GetBytes(DockerCaptures.RunningContainers));
        var names = ContainerNetworks.NamesOf(containers);
        Assert.Equal(["web3", "web1", "svc"], names.Keys);
        Assert.Equal([IpAddress.Parse("172.17.0.2")], names["web3"]);
        Assert.Equal([IpAddress.Parse("172.18.0.2"), IpAddress.Parse("fd00:dd::2")], names["web1"]);
        Assert.Equal(names["web1"], names["svc"]);
    }

    [Fact]
    public void ANameSeveralContainersShareHasAllTheirAddressesAndNamesAreLowerCase()
    {
        ContainerAddresses[] containers =
        [
            new("a", ["App-1", "app"], [IpAddress.Parse("172.18.0.2")]),
            new("b", ["app-2", "app"], [IpAddress.Parse("172.18.0.3")]),
            new("c", ["idle"], []),
        ];
        var names = ContainerNetworks.NamesOf(containers);
        Assert.Equal([IpAddress.Parse("172.18.0.2"), IpAddress.Parse("172.18.0.3")], names["app"]);
        Assert.True(names.ContainsKey("app-1"));
        Assert.Empty(names["idle"]);
    }

    [Fact]
    public void ALegacyLinkNameIsNotAHostName()
    {
        const string json = """[{"Id": "x", "Names": ["/db", "/web/db"], "Labels": null, "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.3", "GlobalIPv6Address": ""}}}}]""";
        Assert.Equal(["db"], Assert.Single(ContainerAddresses.ParseList(Encoding.UTF8.GetBytes(json))).Names);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("[{\"Names\": [\"/x\"]}]")]
    [InlineData("[1]")]
    [InlineData("not json")]
    public void AListThatDoesNotParseIsAFormatError(string json)
    {
        Assert.Throws<FormatException>(() => ContainerAddresses.ParseList(Encoding.UTF8.GetBytes(json)));
        Assert.Throws<FormatException>(() => DockerNetwork.ParseList(Encoding.UTF8.GetBytes(json)));
    }

    [Theory]
    [InlineData(DockerCaptures.StartEvent, true)]
    [InlineData(DockerCaptures.DieEvent, true)]
    [InlineData(DockerCaptures.RenameEvent, true)]
    [InlineData(DockerCaptures.DestroyEvent, true)]
    [InlineData(DockerCaptures.NetworkCreateEvent, true)]
    [InlineData(DockerCaptures.NetworkConnectEvent, true)]
    [InlineData(DockerCaptures.CreateEvent, false)]
    [InlineData("{\"Type\":\"container\",\"Action\":\"exec_start: sh\",\"Actor\":{\"ID\":\"abc\"}}", false)]
    [InlineData("{\"Type\":\"image\",\"Action\":\"pull\",\"Actor\":{\"ID\":\"busybox\"}}", false)]
    public void EventsThatMayChangeARouteOrANameAskForARefresh(string line, bool concerns)
    {
        Assert.True(DockerEvent.TryParse(line, out var parsed));
        Assert.Equal(concerns, ContainerNetworks.Concerns(parsed));
    }
}
