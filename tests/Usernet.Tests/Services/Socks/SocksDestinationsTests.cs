using Usernet.Services.Dns;
using Usernet.Services.Socks;
using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Tests.Services.Socks;

/// <summary>What the SOCKS server may connect to: the guests' networks and nothing else.</summary>
public sealed class SocksDestinationsTests
{
    private static readonly StackOptions Options = new();

    private static (SocksDestinations Destinations, GuestRouteTable Routes, DnsLocalRecords Records) Make(StackOptions? options = null)
    {
        var stack = options ?? Options;
        var routes = new GuestRouteTable();
        var records = new DnsLocalRecords(DnsLocalRecords.BuiltInNames(stack.Host, stack.HostV6, stack.Gateway, stack.GatewayV6));
        var destinations = new SocksDestinations(stack, routes);
        destinations.AddNames(new LocalRecordNames(records));
        return (destinations, routes, records);
    }

    [Theory]
    [InlineData("192.168.65.3", true)]
    [InlineData("192.168.65.200", true)]
    [InlineData("fdc4:f303:9324::3", true)]
    [InlineData("fdc4:f303:9324::1234:5678", true)]
    [InlineData("192.168.65.1", false)]
    [InlineData("192.168.65.254", false)]
    [InlineData("192.168.65.0", false)]
    [InlineData("192.168.65.255", false)]
    [InlineData("fdc4:f303:9324::1", false)]
    [InlineData("fdc4:f303:9324::254", false)]
    [InlineData("fe80::1", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("198.18.0.2", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("172.17.0.2", false)]
    [InlineData("2001:2::2", false)]
    public void OnlyGuestAddressesAreInside(string address, bool inside) =>
        Assert.Equal(inside, Make().Destinations.IsInside(IpAddress.Parse(address)));

    [Fact]
    public void AFamilyTurnedOffIsOutside()
    {
        var (destinations, _, _) = Make(Options with { Ipv6Enabled = false });
        Assert.False(destinations.IsInside(IpAddress.Parse("fdc4:f303:9324::3")));
        Assert.True(destinations.IsInside(IpAddress.Parse("192.168.65.3")));
    }

    [Fact]
    public void ARoutedSubnetIsInsideUntilItsRouteIsRemoved()
    {
        var (destinations, routes, _) = Make();
        var container = IpAddress.Parse("172.17.0.2");
        Assert.True(routes.Add(GuestRoute.V4(Ipv4Cidr.Parse("172.17.0.0/16"), Ipv4Address.Parse("192.168.65.3"))));
        Assert.True(routes.Add(GuestRoute.V6(Ipv6Cidr.Parse("fd00:d0c::/64"), Ipv6Address.Parse("fdc4:f303:9324::3"))));
        Assert.True(destinations.IsInside(container));
        Assert.True(destinations.IsInside(IpAddress.Parse("fd00:d0c::2")));
        Assert.False(destinations.IsInside(IpAddress.Parse("172.18.0.2")));
        Assert.True(routes.Remove(IpAddress.Parse("172.17.0.0"), 16));
        Assert.False(destinations.IsInside(container));
        Assert.False(routes.Remove(IpAddress.Parse("172.17.0.0"), 16));
    }

    [Fact]
    public void NamesResolveByUsernetsRecordsOnlyAndOutsideAddressesAreNotAllowed()
    {
        var (destinations, _, records) = Make();
        records.Add("web.test", IpAddress.Parse("fdc4:f303:9324::3"));
        records.Add("web.test", IpAddress.Parse("192.168.65.3"));
        records.Add("outside.test", IpAddress.Parse("198.18.0.2"));

        Assert.Equal(SocksRefusal.None, destinations.Resolve("web.test", out var address));
        Assert.Equal(IpAddress.Parse("192.168.65.3"), address);
        Assert.Equal(SocksRefusal.NotAllowed, destinations.Resolve("outside.test", out _));
        // host.docker.internal is Usernet's own host address, behind no guest.
        Assert.Equal(SocksRefusal.NotAllowed, destinations.Resolve("host.docker.internal", out _));
        Assert.Equal(SocksRefusal.UnknownName, destinations.Resolve("nowhere.test", out _));
        Assert.Equal(SocksRefusal.UnknownName, destinations.Resolve("localhost", out _));
    }

    [Fact]
    public void AnotherSourceOfNamesCanBeAddedAndRemoved()
    {
        var (destinations, _, _) = Make();
        var containers = new FixedNames("db", IpAddress.Parse("192.168.65.7"));
        destinations.AddNames(containers);
        Assert.Equal(SocksRefusal.None, destinations.Resolve("db", out var address));
        Assert.Equal(IpAddress.Parse("192.168.65.7"), address);
        destinations.RemoveNames(containers);
        Assert.Equal(SocksRefusal.UnknownName, destinations.Resolve("db", out _));
    }

    private sealed class FixedNames(string name, IpAddress address) : IGuestNameSource
    {
        public void Lookup(string asked, List<IpAddress> addresses)
        {
            if (asked == name)
            {
                addresses.Add(address);
            }
        }
    }
}
