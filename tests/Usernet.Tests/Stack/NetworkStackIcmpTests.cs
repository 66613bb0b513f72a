using Usernet.Stack;
using Usernet.Tests.Support;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

public sealed class NetworkStackIcmpTests
{
    private static readonly Instant T0 = Instant.FromMilliseconds(1_000);
    private static readonly Ipv4Address Outside = Ipv4Address.Parse("198.18.0.1");

    private static byte[] UdpToGateway(ushort port, int payloadLength = 16, byte ttl = 64)
    {
        byte[] frame = TestFrames.Udp(TestFrames.GuestMac, TestFrames.StackMac, TestFrames.Guest, TestFrames.Gateway, 40000, port, new byte[payloadLength]);
        return ttl == 64 ? frame : WithTtl(frame, ttl);
    }

    private static byte[] WithTtl(byte[] frame, byte ttl)
    {
        new Ipv4Packet(frame.AsSpan(EthernetFrame.HeaderLength)).TimeToLive = ttl;
        TestFrames.FixIpv4Checksum(frame);
        return frame;
    }

    /// <summary>The IPv4 packet of a frame the guest sent, as an ICMP error quotes it.</summary>
    private static byte[] PacketOf(byte[] frame) => frame[EthernetFrame.HeaderLength..];

    /// <summary>An ICMP error from the gateway to the guest, quoting all of <paramref name="offending"/>.</summary>
    private static void AssertErrorFromTheGateway(byte[] error, byte type, byte code, byte[] offending)
    {
        StackHarness.AssertIpv4(error, TestFrames.GuestMac, TestFrames.Gateway, TestFrames.Guest);
        var icmp = Frames.Icmp(error);
        Assert.Equal(type, icmp.Type);
        Assert.Equal(code, icmp.Code);
        Assert.Equal(PacketOf(offending), icmp.Payload.ToArray());
    }

    [Theory]
    [InlineData("192.168.65.1")]
    [InlineData("192.168.65.254")]
    public void EchoToTheGatewayOrHostIsAnswered(string target)
    {
        var harness = new StackHarness();
        var address = Ipv4Address.Parse(target);
        byte[] request = TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, address, id: 0x4242, sequence: 7, dataLength: 56);
        byte[] reply = harness.AnswerOne(request, T0);

        StackHarness.AssertIpv4(reply, TestFrames.GuestMac, address, TestFrames.Guest);
        var echo = Frames.Icmp(reply);
        Assert.Equal(IcmpV4Type.EchoReply, echo.Type);
        Assert.Equal(0, echo.Code);
        Assert.Equal(0x4242, echo.Identifier);
        Assert.Equal(7, echo.SequenceNumber);
        Assert.Equal(Frames.Icmp(request).Payload.ToArray(), echo.Payload.ToArray());
        Assert.Equal(1, harness.Counters.EchoRepliesSent);
    }

    [Fact]
    public void TheCapturedPingGetsTheReplyLinuxSent()
    {
        var harness = new StackHarness(StackHarness.CaptureNetwork);
        byte[] reply = harness.AnswerOne(Captures.PingRequest, T0);
        Assert.Equal(Captures.PingReply[..EthernetFrame.HeaderLength], reply[..EthernetFrame.HeaderLength]);
        Assert.Equal(Frames.Icmp(Captures.PingReply).Buffer.ToArray(), Frames.Icmp(reply).Buffer.ToArray());
        var ip = Frames.Ipv4(reply);
        Assert.Equal(Frames.AddressB, ip.Source);
        Assert.Equal(Frames.AddressA, ip.Destination);
    }

    [Fact]
    public void AnEchoLargerThanTheLinkMtuIsAnsweredInFragments()
    {
        // A TAP guest may send 3028 bytes in one frame; the reply must fit the link's 1500.
        var harness = new StackHarness(linkMtu: 1500);
        byte[] request = TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, id: 1, sequence: 2, dataLength: 3000);
        var fragments = harness.Answer(request, T0);

        Assert.Equal(3, fragments.Count);
        Assert.Equal(3, harness.Counters.FragmentsSentToGuest);
        ushort identification = Frames.Ipv4(fragments[0]).Identification;
        int[] offsets = [0, 1480, 2960];
        for (int i = 0; i < fragments.Count; i++)
        {
            var ip = Frames.Ipv4(fragments[i]);
            Assert.True(ip.TotalLength <= 1500);
            Assert.Equal(offsets[i], ip.FragmentOffset);
            Assert.Equal(i < 2, ip.MoreFragments);
            Assert.False(ip.DontFragment);
            Assert.Equal(identification, ip.Identification);
            Assert.Equal(TestFrames.Gateway, ip.Source);
        }

        var echo = Reassemble(fragments);
        Assert.True(IcmpV4Message.TryParse(echo, out var reply, out bool checksumValid));
        Assert.True(checksumValid);
        Assert.Equal(IcmpV4Type.EchoReply, reply.Type);
        Assert.Equal(Frames.Icmp(request).Payload.ToArray(), reply.Payload.ToArray());
    }

    /// <summary>The payload of the datagram that <paramref name="fragments"/> make up.</summary>
    private static byte[] Reassemble(IEnumerable<byte[]> fragments)
    {
        var reassembler = new Ipv4Reassembler(new ReassemblyLimits(4, 64, TimeSpan.FromSeconds(30)));
        foreach (byte[] fragment in fragments)
        {
            if (reassembler.Accept(Frames.Ipv4(fragment), T0, out var datagram) == ReassemblyOutcome.Complete)
            {
                Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(datagram, out var whole));
                return whole.Payload.ToArray();
            }
        }
        Assert.Fail("the fragments do not make a datagram");
        return [];
    }

    [Fact]
    public void TheCapturedFragmentedPingIsReassembledAndAnsweredInFragments()
    {
        var harness = new StackHarness(StackHarness.CaptureNetwork, linkMtu: 1500);
        Assert.Empty(harness.Answer(Captures.FragmentedPingRequest1, T0));
        Assert.Empty(harness.Answer(Captures.FragmentedPingRequest2, T0));
        var fragments = harness.Answer(Captures.FragmentedPingRequest3, T0);
        Assert.Equal(3, fragments.Count);
        Assert.All(fragments, f => Assert.True(f.Length <= EthernetFrame.HeaderLength + 1500));

        // The same echo reply as namespace B's kernel sent, in the same three pieces.
        byte[] linux = Reassemble([Captures.FragmentedPingReply1, Captures.FragmentedPingReply2, Captures.FragmentedPingReply3]);
        Assert.Equal(linux, Reassemble(fragments));
        Assert.Equal(1, harness.Counters.EchoRepliesSent);
    }

    [Theory]
    [InlineData(null, 65520, 1)]   // a TAP link: the reply goes whole
    [InlineData(1280, 65520, 3)]   // network.mtu wins over the link's own
    public void TheConfiguredMtuOrElseTheLinksDecides(int? configured, int linkMtu, int frames)
    {
        var harness = new StackHarness(new StackOptions { Mtu = configured }, linkMtu);
        byte[] request = TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, id: 1, sequence: 1, dataLength: 3000);
        var sent = harness.Answer(request, T0);
        Assert.Equal(frames, sent.Count);
        Assert.All(sent, f => Assert.True(Frames.Ipv4(f).TotalLength <= (configured ?? linkMtu)));
    }

    [Fact]
    public void TtlOneToAnOutsideAddressGetsTimeExceededFromTheGateway()
    {
        // RFC 1812 §5.3.1: the gateway is a router, and the first hop of a traceroute.
        var harness = new StackHarness();
        byte[] probe = WithTtl(TestFrames.Udp(TestFrames.GuestMac, TestFrames.StackMac, TestFrames.Guest, Outside, 40000, 33434, new byte[32]), 1);
        AssertErrorFromTheGateway(harness.AnswerOne(probe, T0), IcmpV4Type.TimeExceeded, IcmpV4Code.TtlExceeded, probe);
        Assert.Equal(1, harness.Counters.Dropped(DropReason.TtlExpired));
        Assert.Equal(1, harness.Counters.IcmpErrorsSent);
    }

    [Fact]
    public void TtlOneToTheGatewayItselfIsDelivered()
    {
        var harness = new StackHarness();
        byte[] reply = harness.AnswerOne(TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, 1, 1, ttl: 1), T0);
        Assert.Equal(IcmpV4Type.EchoReply, Frames.Icmp(reply).Type);
    }

    [Fact]
    public void UdpToAClosedGatewayPortGetsPortUnreachableQuotingTheDatagram()
    {
        var harness = new StackHarness();
        byte[] datagram = UdpToGateway(9);
        AssertErrorFromTheGateway(harness.AnswerOne(datagram, T0), IcmpV4Type.DestinationUnreachable, IcmpV4Code.PortUnreachable, datagram);
        Assert.Equal(1, harness.Counters.Dropped(DropReason.UdpNoService));
    }

    [Fact]
    public void TheCapturedUdpToAClosedPortGetsTheErrorLinuxSent()
    {
        var harness = new StackHarness(StackHarness.CaptureNetwork);
        byte[] error = harness.AnswerOne(Captures.UdpToClosedPort, T0);
        Assert.Equal(Frames.Icmp(Captures.PortUnreachable).Buffer.ToArray(), Frames.Icmp(error).Buffer.ToArray());
    }

    [Fact]
    public void AnErrorQuotesNoMoreThanFitsIn576Bytes()
    {
        // RFC 1812 §4.3.2.3: as much of the packet as fits in a 576-byte error.
        var harness = new StackHarness();
        byte[] datagram = UdpToGateway(9, payloadLength: 1000);
        byte[] error = harness.AnswerOne(datagram, T0);
        Assert.Equal(576, Frames.Ipv4(error).TotalLength);
        Assert.Equal(PacketOf(datagram)[..548], Frames.Icmp(error).Payload.ToArray());
    }

    [Fact]
    public void NoErrorIsSentAboutAnIcmpError()
    {
        // RFC 1122 §3.2.2: never an ICMP error about an ICMP error.
        var harness = new StackHarness();
        byte[] unreachable = new byte[IcmpV4Message.HeaderLength + 28];
        var message = new IcmpV4Message(unreachable) { Type = IcmpV4Type.DestinationUnreachable, Code = IcmpV4Code.PortUnreachable };
        message.FillChecksum();
        byte[] frame = TestFrames.Ipv4(TestFrames.GuestMac, TestFrames.StackMac, TestFrames.Guest, Outside, IpProtocol.Icmp, unreachable, ttl: 1);
        Assert.Empty(harness.Answer(frame, T0));
        Assert.Equal(1, harness.Counters.Dropped(DropReason.TtlExpired));
        Assert.Equal(0, harness.Counters.IcmpErrorsSent);
    }

    [Fact]
    public void IcmpErrorsAreRateLimitedWithABurstThenRefill()
    {
        // 50 at once, then 200 a second (RFC 1812 §4.3.2.8).
        var harness = new StackHarness();
        Assert.Equal(50, SendErrors(harness, 60, T0));
        Assert.Equal(10, harness.Counters.Dropped(DropReason.IcmpRateLimited));

        Assert.Equal(2, SendErrors(harness, 5, T0 + TimeSpan.FromMilliseconds(10)));

        // However long the pause, the burst stays 50.
        Assert.Equal(50, SendErrors(harness, 60, T0 + TimeSpan.FromHours(1)));
        Assert.Equal(10 + 3 + 10, harness.Counters.Dropped(DropReason.IcmpRateLimited));
        Assert.Equal(102, harness.Counters.IcmpErrorsSent);
        // The datagrams themselves are counted whether or not an error went out.
        Assert.Equal(125, harness.Counters.Dropped(DropReason.UdpNoService));
    }

    private static int SendErrors(StackHarness harness, int count, Instant now)
    {
        int sent = 0;
        for (int i = 0; i < count; i++)
        {
            sent += harness.Answer(UdpToGateway(9), now).Count;
        }
        return sent;
    }
}
