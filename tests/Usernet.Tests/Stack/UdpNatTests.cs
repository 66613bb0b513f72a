using System.Buffers.Binary;
using Usernet.Stack;
using Usernet.Stack.Udp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

public sealed class UdpNatTests
{
    private static readonly IpEndpoint Guest = new(TestFrames.Guest, 40000);
    private static readonly IpEndpoint GuestV6 = new(NatHarness.GuestV6, 40000);
    private static readonly IpEndpoint Remote = new(Ipv4Address.Parse("198.18.0.1"), 7000);
    private static readonly IpEndpoint RemoteV6 = new(Ipv6Address.Parse("2001:db8::1"), 7000);

    private static IpEndpoint GuestOf(IpAddress family) => family.IsV4 ? Guest : GuestV6;

    [Fact]
    public void AGuestEndpointGetsOneHostSocketForEveryDestination()
    {
        var nat = new NatHarness();
        Assert.Empty(nat.Answer(NatHarness.UdpFrame(Guest, Remote, "one"u8)));
        Assert.Empty(nat.Answer(NatHarness.UdpFrame(Guest, Remote with { Port = 7001 }, "two"u8)));

        var socket = Assert.Single(nat.Factory.Udp);
        Assert.Equal([Remote, Remote with { Port = 7001 }], socket.Sends.Select(s => s.Destination));
        Assert.Equal("one"u8.ToArray(), socket.Sends[0].Payload);
        // A router passes the datagram on one hop nearer its end (RFC 1812 §5.3.1).
        Assert.Equal(63, socket.Sends[0].Ttl);
        Assert.Equal(1, nat.Udp.Counters.FlowsOpened);
    }

    [Fact]
    public void AReplyComesBackFromItsTrueSource()
    {
        var nat = new NatHarness();
        nat.Answer(NatHarness.UdpFrame(Guest, Remote, "ping"u8));
        Assert.Single(nat.Factory.Udp).Deliver(Remote with { Port = 9999 }, "pong"u8, nat.Now);

        var (source, destination, payload) = NatHarness.UdpOf(Assert.Single(nat.Sent.Take()));
        Assert.Equal(Remote with { Port = 9999 }, source);
        Assert.Equal(Guest, destination);
        Assert.Equal("pong"u8.ToArray(), payload);
    }

    [Theory]
    [InlineData("192.168.65.254", "127.0.0.1")]
    [InlineData("fdc4:f303:9324::254", "::1")]
    public void TheHostAddressLeadsToTheHostLoopbackAndRepliesComeFromIt(string host, string loopback)
    {
        var nat = new NatHarness();
        var hostAddress = IpAddress.Parse(host);
        var guest = GuestOf(hostAddress);
        nat.Answer(NatHarness.UdpFrame(guest, new IpEndpoint(hostAddress, 53), "query"u8));
        var socket = Assert.Single(nat.Factory.Udp);
        Assert.Equal(new IpEndpoint(IpAddress.Parse(loopback), 53), Assert.Single(socket.Sends).Destination);

        socket.Deliver(new IpEndpoint(IpAddress.Parse(loopback), 53), "answer"u8, nat.Now);
        var (source, destination, _) = NatHarness.UdpOf(Assert.Single(nat.Sent.Take()));
        Assert.Equal(new IpEndpoint(hostAddress, 53), source);
        Assert.Equal(guest, destination);
    }

    [Theory]
    [MemberData(nameof(NatHarness.RefusedDestinations), MemberType = typeof(NatHarness))]
    public void ARefusedDestinationGetsNoSocketButAdministrativelyProhibited(string destination, bool hostLoopback)
    {
        var nat = new NatHarness(new StackOptions { HostLoopback = hostLoopback });
        var to = new IpEndpoint(IpAddress.Parse(destination), 53);
        // A v4-mapped destination arrives in an IPv6 packet.
        var guest = destination.Contains(':') ? GuestV6 : Guest;
        nat.AssertRefused(NatHarness.UdpFrame(guest, to, "query"u8), guest.Address);
    }

    [Fact]
    public void AFullTableClosesTheLeastRecentlyUsedFlow()
    {
        var nat = new NatHarness(udpOptions: new UdpOptions { MaxFlows = 2 });
        for (ushort port = 1; port <= 3; port++)
        {
            nat.Answer(NatHarness.UdpFrame(Guest with { Port = port }, Remote, "x"u8));
            if (port == 2)
            {
                // Flow 1 speaks again: flow 2 is now the least recently used.
                nat.Answer(NatHarness.UdpFrame(Guest with { Port = 1 }, Remote, "x"u8));
            }
        }
        Assert.Equal([false, true, false], nat.Factory.Udp.Select(s => s.Closed));
        Assert.Equal(1, nat.Udp.Counters.FlowsEvicted);
        Assert.Equal(2, nat.Udp.Count);
    }

    [Fact]
    public void AnIdleFlowTellsTheFlowLogWhatItCarriedEachWay()
    {
        var nat = new NatHarness(udpOptions: new UdpOptions { IdleTimeout = TimeSpan.FromSeconds(60) });
        var ended = new List<(FlowRecord Record, FlowEnd End)>();
        nat.Stack.FlowEnded = (record, end) => ended.Add((record, end));
        nat.Answer(NatHarness.UdpFrame(Guest, Remote, "hello"u8));
        nat.Answer(NatHarness.UdpFrame(Guest, Remote, "again"u8));
        nat.Factory.Udp[0].Deliver(Remote, "reply!"u8, nat.Now);

        nat.Advance(TimeSpan.FromSeconds(60));

        var (record, end) = Assert.Single(ended);
        Assert.Equal(FlowEnd.Expired, end);
        Assert.Equal((Guest, Remote, IpProtocol.Udp), (record.Guest, record.Remote, record.Protocol));
        Assert.Equal((10L, 6L, 2L, 1L), (record.BytesFromGuest, record.BytesToGuest, record.PacketsFromGuest, record.PacketsToGuest));
    }

    [Fact]
    public void AFlowIdleForTheTimeoutIsClosedAndAReplyKeepsItOpen()
    {
        var nat = new NatHarness(udpOptions: new UdpOptions { IdleTimeout = TimeSpan.FromSeconds(60) });
        nat.Answer(NatHarness.UdpFrame(Guest, Remote, "x"u8));
        nat.Answer(NatHarness.UdpFrame(Guest with { Port = 2 }, Remote, "x"u8));
        var (first, second) = (nat.Factory.Udp[0], nat.Factory.Udp[1]);

        nat.Advance(TimeSpan.FromSeconds(40));
        second.Deliver(Remote, "reply"u8, nat.Now);
        nat.Advance(TimeSpan.FromSeconds(20));
        Assert.True(first.Closed);
        Assert.False(second.Closed);
        Assert.Equal(1, nat.Udp.Counters.FlowsExpired);

        nat.Advance(TimeSpan.FromSeconds(40));
        Assert.True(second.Closed);
        Assert.Equal(0, nat.Udp.Count);
    }

    [Fact]
    public void CloseGuestClosesOnlyThatGuestsSockets()
    {
        var nat = new NatHarness();
        var other = new IpEndpoint(Ipv4Address.Parse("192.168.65.4"), 40000);
        nat.Answer(NatHarness.UdpFrame(Guest, Remote, "x"u8));
        nat.Answer(TestFrames.Udp(new MacAddress(0x02_00_00_00_00_04), TestFrames.StackMac, other.Address.V4, Remote.Address.V4, other.Port, Remote.Port, "x"u8));
        nat.Udp.CloseGuest(Guest.Address);
        Assert.Equal([true, false], nat.Factory.Udp.Select(s => s.Closed));
        Assert.Equal(1, nat.Udp.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AnErrorTheHostGotIsRelayedQuotingTheGuestsUdpHeader(bool v4)
    {
        var nat = new NatHarness();
        var (guest, remote) = v4 ? (Guest, Remote) : (GuestV6, RemoteV6);
        nat.Answer(NatHarness.UdpFrame(guest, remote, "probe"u8));
        var error = NatHarness.TimeExceeded(v4, remote);
        Assert.Single(nat.Factory.Udp).Events.OnHostIcmpError(error, nat.Now);

        // The UDP header as the guest sent it, all traceroute needs to find its probe.
        byte[] udp = nat.AssertRelayed(error, guest.Address, remote.Address, IpProtocol.Udp);
        Assert.Equal(guest.Port, BinaryPrimitives.ReadUInt16BigEndian(udp));
        Assert.Equal(remote.Port, BinaryPrimitives.ReadUInt16BigEndian(udp.AsSpan(2)));
        Assert.Equal(1, nat.Udp.Counters.IcmpErrorsRelayed);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TooBigForThePathIsAnsweredWithTheMtuQuotingTheDatagram(bool v4)
    {
        var nat = new NatHarness();
        var (guest, remote) = v4 ? (Guest, Remote) : (GuestV6, RemoteV6);
        nat.Answer(NatHarness.UdpFrame(guest, remote, "first"u8));
        var socket = Assert.Single(nat.Factory.Udp);
        socket.NextResult = HostSendResult.TooBig;
        socket.Mtu = 1280;
        byte[] big = NatHarness.UdpFrame(guest, remote, new byte[1200]);

        var icmp = NatHarness.IcmpOf(Assert.Single(nat.Answer(big)));

        var expected = IcmpError.TooBig(guest.Address, 1280);
        Assert.Equal((expected.Type, expected.Code), (icmp.Type, icmp.Code));
        // IPv4's next-hop MTU is the low half of the word (RFC 1191 §4); IPv6's MTU is all of it.
        Assert.Equal(1280u, icmp.Word);
        Assert.Equal(nat.Stack.Options.GatewayOf(guest.Address), icmp.Source);
        // The whole datagram fits in the 576 (IPv4) or 1280 (IPv6) bytes an error may fill.
        int limit = v4 ? 576 - Ipv4Packet.MinHeaderLength - IcmpV4Message.HeaderLength : 1280 - Ipv6Packet.HeaderLength - Icmpv6Message.HeaderLength;
        byte[] packet = big.AsSpan(EthernetFrame.HeaderLength).ToArray();
        Assert.Equal(packet[..Math.Min(packet.Length, limit)], icmp.Quote);
        Assert.Equal(1, nat.Udp.Counters.TooBig);
    }
}
