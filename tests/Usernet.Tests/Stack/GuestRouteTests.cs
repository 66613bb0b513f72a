using Usernet.Stack;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

/// <summary>Subnets behind a guest (network.guestRoutes): frames for them go to that guest's MAC, and theirs come back through it.</summary>
public sealed class GuestRouteTests
{
    private static readonly Ipv4Address Container = Ipv4Address.Parse("172.17.0.2");
    private static readonly MacAddress OtherMac = new(0x02_00_00_00_00_09);

    private static StackHarness WithRoute() =>
        new(new StackOptions { GuestRoutes = [GuestRoute.V4(Ipv4Cidr.Parse("172.17.0.0/16"), TestFrames.Guest)] });

    [Fact]
    public void APingFromARoutedSubnetIsAnsweredToTheGuestsMac()
    {
        var harness = WithRoute();
        // The guest has spoken: its MAC is known.
        harness.AnswerOne(TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, 1, 1));

        var reply = harness.AnswerOne(TestFrames.IcmpEcho(TestFrames.GuestMac, Container, TestFrames.Gateway, 2, 1));
        StackHarness.AssertIpv4(reply, TestFrames.GuestMac, TestFrames.Gateway, Container);
        // The container is reached through the guest, not learned as a neighbour of its own.
        Assert.False(harness.Stack.Neighbours.TryGet(Container, out _));
        Assert.Equal(harness.Link, harness.Stack.LinkOf(Container));
    }

    [Fact]
    public void WithoutTheRouteOrFromAnotherMacTheSourceIsRefused()
    {
        var plain = new StackHarness();
        plain.AnswerOne(TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, 1, 1));
        Assert.Empty(plain.Answer(TestFrames.IcmpEcho(TestFrames.GuestMac, Container, TestFrames.Gateway, 2, 1)));
        Assert.Equal(1, plain.Counters.Dropped(DropReason.Ipv4BadSource));

        var routed = WithRoute();
        routed.AnswerOne(TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, 1, 1));
        // Another MAC may not speak for the subnet behind the guest.
        Assert.Empty(routed.Answer(TestFrames.IcmpEcho(OtherMac, Container, TestFrames.Gateway, 2, 1)));
        Assert.Equal(1, routed.Counters.Dropped(DropReason.Ipv4BadSource));
    }

    [Fact]
    public void APacketForARoutedSubnetWaitsForTheGuestsMacNotTheDestinations()
    {
        var harness = WithRoute();
        harness.Stack.Ipv4Payload[..8].Fill(1);
        Assert.False(harness.Stack.SendIpv4(TestFrames.Gateway, Container, IpProtocol.Udp, 8));
        var arp = Assert.Single(harness.Sent.Take());
        Assert.True(EthernetFrame.TryParse(arp, out var ethernet));
        Assert.Equal(EtherType.Arp, ethernet.EtherType);
        Assert.True(ArpPacket.TryParse(ethernet.Payload, out var request));
        Assert.Equal(TestFrames.Guest, request.TargetProtocol);

        // The guest answers for itself: the held packet goes to its MAC.
        var sent = harness.Answer(TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, 1, 1));
        Assert.Contains(sent, frame =>
            EthernetFrame.TryParse(frame, out var e) && e.Destination == TestFrames.GuestMac && Tests.Wire.Frames.Ipv4(frame).Destination == Container);
    }

    [Fact]
    public void TheMostSpecificRouteWinsAndRoutesComeAndGo()
    {
        var table = new GuestRouteTable();
        var other = Ipv4Address.Parse("192.168.65.4");
        Assert.True(table.Add(GuestRoute.V4(Ipv4Cidr.Parse("172.16.0.0/12"), TestFrames.Guest)));
        Assert.True(table.Add(GuestRoute.V4(Ipv4Cidr.Parse("172.17.0.0/16"), other)));
        Assert.True(table.TryFind(Container, out var via));
        Assert.Equal((IpAddress)other, via);
        Assert.True(table.TryFind(Ipv4Address.Parse("172.18.0.2"), out via));
        Assert.Equal((IpAddress)TestFrames.Guest, via);
        Assert.False(table.TryFind(Ipv6Address.Parse("fd00::2"), out _));
        // Moved to another guest: one route, the new one.
        Assert.True(table.Add(GuestRoute.V4(Ipv4Cidr.Parse("172.17.0.0/16"), TestFrames.Guest)));
        Assert.Equal(2, table.Routes.Count);
        Assert.True(table.Remove(Ipv4Address.Parse("172.17.0.0"), 16));
        Assert.False(table.Remove(Ipv4Address.Parse("172.17.0.0"), 16));
        Assert.True(table.Add(GuestRoute.V6(Ipv6Cidr.Parse("fd00:d0c::/64"), Ipv6Address.Parse("fdc4:f303:9324::3"))));
        Assert.True(table.TryFind(Ipv6Address.Parse("fd00:d0c::2"), out via));
        Assert.Equal((IpAddress)Ipv6Address.Parse("fdc4:f303:9324::3"), via);
        Assert.False(table.TryFind(Ipv6Address.Parse("fd00:d0d::2"), out _));
    }
}
