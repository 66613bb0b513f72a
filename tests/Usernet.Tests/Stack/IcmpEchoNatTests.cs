using System.Buffers.Binary;
using Usernet.Stack;
using Usernet.Stack.Udp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

public sealed class IcmpEchoNatTests
{
    private static readonly IpAddress Remote = Ipv4Address.Parse("198.18.0.1");
    private static readonly IpAddress RemoteV6 = Ipv6Address.Parse("2001:db8::1");

    private static IpAddress GuestOf(bool v4) => v4 ? TestFrames.Guest : NatHarness.GuestV6;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AnEchoLeavesThroughAPingSocketAndTheReplyGetsTheGuestsIdentifier(bool v4)
    {
        var nat = new NatHarness();
        var (guest, remote) = (GuestOf(v4), v4 ? Remote : RemoteV6);
        Assert.Empty(nat.Answer(NatHarness.EchoFrame(guest, remote, id: 0x1234, sequence: 7)));
        var socket = Assert.Single(nat.Factory.Ping);
        var sent = Assert.Single(socket.Sends);
        Assert.Equal(new IpEndpoint(remote, 0), sent.Destination);
        Assert.Equal(63, sent.Ttl);

        // The host's ping socket has an identifier of its own; the reply goes back with the guest's.
        byte[] reply = sent.Payload.ToArray();
        reply[0] = v4 ? IcmpV4Type.EchoReply : Icmpv6Type.EchoReply;
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(4), 0x9999);
        socket.Deliver(new IpEndpoint(remote, 0), reply, nat.Now);

        var icmp = NatHarness.IcmpOf(Assert.Single(nat.Sent.Take()));
        Assert.Equal((remote, guest), (icmp.Source, icmp.Destination));
        Assert.Equal(v4 ? IcmpV4Type.EchoReply : Icmpv6Type.EchoReply, icmp.Type);
        Assert.Equal(0x1234_0007u, icmp.Word);
        Assert.Equal(1, nat.Ping.RepliesRelayed);
    }

    [Theory]
    [InlineData("192.168.65.254")]
    [InlineData("fdc4:f303:9324::254")]
    public void AnEchoToTheHostAddressIsAnsweredWhileHostLoopbackIsOn(string host)
    {
        var nat = new NatHarness();
        var hostAddress = IpAddress.Parse(host);
        var guest = GuestOf(hostAddress.IsV4);
        var icmp = NatHarness.IcmpOf(Assert.Single(nat.Answer(NatHarness.EchoFrame(guest, hostAddress, 1, 1))));
        Assert.Equal((hostAddress, guest), (icmp.Source, icmp.Destination));
        Assert.Equal(hostAddress.IsV4 ? IcmpV4Type.EchoReply : Icmpv6Type.EchoReply, icmp.Type);
    }

    [Theory]
    // With hostLoopback off nothing is behind the host address, so it does not answer either.
    [MemberData(nameof(NatHarness.RefusedDestinations), MemberType = typeof(NatHarness))]
    public void AnEchoToARefusedAddressIsAdministrativelyProhibited(string destination, bool hostLoopback)
    {
        var nat = new NatHarness(new StackOptions { HostLoopback = hostLoopback });
        var to = IpAddress.Parse(destination);
        var guest = GuestOf(!destination.Contains(':'));
        nat.AssertRefused(NatHarness.EchoFrame(guest, to, 1, 1), guest);
        Assert.Equal(0, nat.Counters.EchoRepliesSent);
    }

    [Fact]
    public void WithoutPingSocketsTheGuestHearsAtOnceThatPingIsFiltered()
    {
        var nat = new NatHarness();
        nat.Factory.PingUnavailableReason = "no ping sockets here";
        var icmp = NatHarness.IcmpOf(Assert.Single(nat.Answer(NatHarness.EchoFrame(TestFrames.Guest, Remote, 1, 1))));
        Assert.Equal(IcmpError.Prohibited(Remote), new IcmpError(icmp.Type, icmp.Code));
        Assert.Equal(1, nat.Ping.Unavailable);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AnErrorTheHostGotIsRelayedQuotingTheEchoHeader(bool v4)
    {
        var nat = new NatHarness();
        var (guest, remote) = (GuestOf(v4), v4 ? Remote : RemoteV6);
        nat.Answer(NatHarness.EchoFrame(guest, remote, id: 0x4242, sequence: 9));
        var error = NatHarness.TimeExceeded(v4, new IpEndpoint(remote, 0), quotedSequence: 9);
        Assert.Single(nat.Factory.Ping).Events.OnHostIcmpError(error, nat.Now);

        var echo = nat.AssertRelayed(error, guest, remote, v4 ? IpProtocol.Icmp : IpProtocol.Icmpv6).AsSpan();
        // What ping matches a reply or an error by: type, identifier and sequence as the guest sent them.
        Assert.Equal(v4 ? IcmpV4Type.EchoRequest : Icmpv6Type.EchoRequest, echo[0]);
        Assert.Equal(0x4242, BinaryPrimitives.ReadUInt16BigEndian(echo[4..]));
        Assert.Equal(9, BinaryPrimitives.ReadUInt16BigEndian(echo[6..]));
        Assert.Equal(1, nat.Ping.ErrorsRelayed);
    }

    [Fact]
    public void IdleEchoFlowsAreClosedAndAGoneGuestsAtOnce()
    {
        var nat = new NatHarness(udpOptions: new UdpOptions { IdleTimeout = TimeSpan.FromSeconds(30) });
        nat.Answer(NatHarness.EchoFrame(TestFrames.Guest, Remote, 1, 1));
        nat.Answer(NatHarness.EchoFrame(TestFrames.Guest, Remote, 2, 1));
        nat.Advance(TimeSpan.FromSeconds(20));
        nat.Answer(NatHarness.EchoFrame(TestFrames.Guest, Remote, 2, 2));
        nat.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal([true, false], nat.Factory.Ping.Select(s => s.Closed));
        Assert.Equal(1, nat.Ping.Count);

        nat.Ping.CloseGuest(TestFrames.Guest);
        Assert.True(nat.Factory.Ping[1].Closed);
        Assert.Equal(0, nat.Ping.Count);
    }
}
