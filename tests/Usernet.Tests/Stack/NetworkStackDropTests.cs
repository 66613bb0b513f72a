using System.Buffers.Binary;
using Usernet.Stack;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

/// <summary>Every way a frame from the guest can be refused on the ARP, IPv4, ICMP and UDP paths, each under its own reason.</summary>
public sealed class NetworkStackDropTests
{
    private static readonly MacAddress Guest = TestFrames.GuestMac;
    private static readonly MacAddress Stack = TestFrames.StackMac;
    private static readonly Ipv4Address Outside = Ipv4Address.Parse("198.18.0.1");

    public static TheoryData<string, string> Cases => new()
    {
        { "frame shorter than an Ethernet header", nameof(DropReason.EthernetTruncated) },
        { "LLDP", nameof(DropReason.UnknownEtherType) },
        { "802.1Q tag", nameof(DropReason.VlanTagged) },
        { "ARP for another guest", nameof(DropReason.NotForUs) },
        { "ARP cut short", nameof(DropReason.ArpMalformed) },
        { "ARP for IPv6 addresses", nameof(DropReason.ArpMalformed) },
        { "ARP from a broadcast sender", nameof(DropReason.ArpMalformed) },
        { "IPv4 shorter than its header", nameof(DropReason.Ipv4Truncated) },
        { "IPv4 claiming version 6", nameof(DropReason.Ipv4BadVersion) },
        { "IPv4 header length 16", nameof(DropReason.Ipv4BadHeaderLength) },
        { "IPv4 header longer than the frame", nameof(DropReason.Ipv4BadHeaderLength) },
        { "IPv4 total length beyond the frame", nameof(DropReason.Ipv4BadTotalLength) },
        { "IPv4 total length inside the header", nameof(DropReason.Ipv4BadTotalLength) },
        { "IPv4 header checksum wrong", nameof(DropReason.Ipv4BadChecksum) },
        { "source outside the subnet", nameof(DropReason.Ipv4BadSource) },
        { "source is the gateway", nameof(DropReason.Ipv4BadSource) },
        { "source is the host", nameof(DropReason.Ipv4BadSource) },
        { "source is the network address", nameof(DropReason.Ipv4BadSource) },
        { "source is the subnet broadcast", nameof(DropReason.Ipv4BadSource) },
        { "fragment not a multiple of 8 bytes", nameof(DropReason.Ipv4FragmentDropped) },
        { "ping to an outside address", nameof(DropReason.Ipv4NoRoute) },
        { "TCP to the gateway", nameof(DropReason.Ipv4NoRoute) },
        { "GRE to the gateway", nameof(DropReason.Ipv4UnknownProtocol) },
        { "GRE to an outside address", nameof(DropReason.Ipv4UnknownProtocol) },
        { "TTL 1 to an outside address", nameof(DropReason.TtlExpired) },
        { "ICMP shorter than its header", nameof(DropReason.IcmpMalformed) },
        { "ICMP checksum wrong", nameof(DropReason.IcmpBadChecksum) },
        { "echo reply to the gateway", nameof(DropReason.IcmpUnsupported) },
        { "timestamp request to the gateway", nameof(DropReason.IcmpUnsupported) },
        { "UDP shorter than its header", nameof(DropReason.UdpMalformed) },
        { "UDP length beyond the packet", nameof(DropReason.UdpMalformed) },
        { "UDP checksum wrong", nameof(DropReason.UdpBadChecksum) },
        { "UDP to a closed gateway port", nameof(DropReason.UdpNoService) },
        { "broadcast UDP to a port without a service", nameof(DropReason.NotForUs) },
        { "broadcast ping", nameof(DropReason.NotForUs) },
        { "IPv4 to another guest", nameof(DropReason.NotForUs) },
        { "IPv4 to a multicast group", nameof(DropReason.NotForUs) },
        { "ping from a multicast MAC", nameof(DropReason.NeighbourUnknown) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachRefusedInputIsCountedUnderItsReasonOnly(string input, string expected)
    {
        var reason = Enum.Parse<DropReason>(expected);
        var harness = new StackHarness();
        harness.Answer(Build(input));
        Assert.Equal(1, harness.Counters.Dropped(reason));
        Assert.Equal(1, harness.Counters.TotalDropped);
        Assert.Equal(1, harness.Counters.FramesIn);
    }

    [Fact]
    public void AChecksumTheLinkVouchedForIsNotVerifiedAgain()
    {
        // With checksum offload the field holds only part of the sum; the link says so.
        var harness = new StackHarness();
        byte[] frame = Build("UDP checksum wrong");
        harness.Stack.Receive(frame, harness.Link, default, checksumTrusted: true);
        Assert.Equal(0, harness.Counters.Dropped(DropReason.UdpBadChecksum));
        harness.Stack.Receive(frame, harness.Link, default);
        Assert.Equal(1, harness.Counters.Dropped(DropReason.UdpBadChecksum));
    }

    [Fact]
    public void AReassembledDatagramIsVerifiedWhateverItsLastFragmentCameWith()
    {
        // The link vouches for one frame; a datagram put together from several is checked whole.
        var harness = new StackHarness();
        byte[] udp = new byte[UdpDatagram.HeaderLength + 24];
        UdpDatagram.WriteHeader(udp, 40000, 9, 24);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(6), 0x1234);
        harness.Stack.Receive(TestFrames.Ipv4(Guest, Stack, TestFrames.Guest, TestFrames.Gateway, IpProtocol.Udp, udp[..16], moreFragments: true, identification: 7),
            harness.Link, default, checksumTrusted: true);
        harness.Stack.Receive(TestFrames.Ipv4(Guest, Stack, TestFrames.Guest, TestFrames.Gateway, IpProtocol.Udp, udp[16..], fragmentOffset: 16, identification: 7),
            harness.Link, default, checksumTrusted: true);
        Assert.Equal(1, harness.Counters.Dropped(DropReason.UdpBadChecksum));
    }

    [Fact]
    public void WellFormedInputIsNotDropped()
    {
        var harness = new StackHarness();
        harness.Answer(TestFrames.ArpRequest(Guest, TestFrames.Guest, TestFrames.Gateway));
        harness.Answer(TestFrames.IcmpEcho(Guest, TestFrames.Guest, TestFrames.Gateway, 1, 1));
        Assert.Equal(0, harness.Counters.TotalDropped);
    }

    [Fact]
    public void APingFromAnUnknownMacIsAnsweredByAskingWhoTheGuestIs()
    {
        // With no MAC to send the reply to, the stack drops it and asks by ARP instead.
        var harness = new StackHarness();
        byte[] request = Build("ping from a multicast MAC");
        byte[] arp = harness.AnswerOne(request);
        Assert.True(EthernetFrame.TryParse(arp, out var ethernet));
        Assert.Equal(MacAddress.Broadcast, ethernet.Destination);
        Assert.True(ArpPacket.TryParse(ethernet.Payload, out var packet));
        Assert.Equal(ArpOperation.Request, packet.Operation);
        Assert.Equal(TestFrames.Gateway, packet.SenderProtocol);
        Assert.Equal(TestFrames.Guest, packet.TargetProtocol);
    }

    private static byte[] Build(string input) => input switch
    {
        "frame shorter than an Ethernet header" => new byte[EthernetFrame.HeaderLength - 1],
        "LLDP" => TestFrames.Ethernet(Guest, new MacAddress(0x0180_C200_000E), 0x88CC, new byte[46]),
        "802.1Q tag" => TestFrames.Ethernet(Guest, Stack, EtherType.Vlan, new byte[46]),
        "ARP for another guest" => TestFrames.ArpRequest(Guest, TestFrames.Guest, Ipv4Address.Parse("192.168.65.77")),
        "ARP cut short" => TestFrames.ArpRequest(Guest, TestFrames.Guest, TestFrames.Gateway)[..(EthernetFrame.HeaderLength + ArpPacket.Length - 1)],
        "ARP for IPv6 addresses" => Patch(TestFrames.ArpRequest(Guest, TestFrames.Guest, TestFrames.Gateway), 16, 0x86, 0xDD),
        "ARP from a broadcast sender" => Patch(TestFrames.ArpRequest(Guest, TestFrames.Guest, TestFrames.Gateway), 22, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF),
        "IPv4 shorter than its header" => TestFrames.Ethernet(Guest, Stack, EtherType.Ipv4, Echo()[EthernetFrame.HeaderLength..][..19]),
        "IPv4 claiming version 6" => Header(Echo(), 0, 0x65),
        "IPv4 header length 16" => Header(Echo(), 0, 0x44),
        "IPv4 header longer than the frame" => Header(TestFrames.Ipv4(Guest, Stack, TestFrames.Guest, TestFrames.Gateway, IpProtocol.Udp, new byte[20]), 0, 0x4F),
        "IPv4 total length beyond the frame" => Header(Echo(), 2, 0x04, 0x00),
        "IPv4 total length inside the header" => Header(Echo(), 2, 0x00, 0x13),
        "IPv4 header checksum wrong" => Patch(Echo(), EthernetFrame.HeaderLength + 10, 0xDE, 0xAD),
        "source outside the subnet" => EchoFrom("10.0.0.1"),
        "source is the gateway" => EchoFrom("192.168.65.1"),
        "source is the host" => EchoFrom("192.168.65.254"),
        "source is the network address" => EchoFrom("192.168.65.0"),
        "source is the subnet broadcast" => EchoFrom("192.168.65.255"),
        "fragment not a multiple of 8 bytes" =>
            TestFrames.Ipv4(Guest, Stack, TestFrames.Guest, TestFrames.Gateway, IpProtocol.Udp, new byte[10], moreFragments: true),
        "ping to an outside address" => TestFrames.IcmpEcho(Guest, TestFrames.Guest, Outside, 1, 1),
        "TCP to the gateway" => TestFrames.Ipv4(Guest, Stack, TestFrames.Guest, TestFrames.Gateway, IpProtocol.Tcp, new byte[20]),
        "GRE to the gateway" => TestFrames.Ipv4(Guest, Stack, TestFrames.Guest, TestFrames.Gateway, 47, new byte[8]),
        "GRE to an outside address" => TestFrames.Ipv4(Guest, Stack, TestFrames.Guest, Outside, 47, new byte[8]),
        "TTL 1 to an outside address" => TestFrames.IcmpEcho(Guest, TestFrames.Guest, Outside, 1, 1, ttl: 1),
        "ICMP shorter than its header" => TestFrames.Ipv4(Guest, Stack, TestFrames.Guest, TestFrames.Gateway, IpProtocol.Icmp, [8, 0, 0xF7, 0xFF]),
        "ICMP checksum wrong" => Patch(Echo(), EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength + 12, 0x55),
        "echo reply to the gateway" => Icmp(IcmpV4Type.EchoReply),
        "timestamp request to the gateway" => Icmp(13),
        "UDP shorter than its header" => TestFrames.Ipv4(Guest, Stack, TestFrames.Guest, TestFrames.Gateway, IpProtocol.Udp, new byte[6]),
        "UDP length beyond the packet" => Patch(UdpTo(TestFrames.Gateway, 53), EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength + 4, 0x01, 0x00),
        "UDP checksum wrong" => Patch(UdpTo(TestFrames.Gateway, 53), EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength + 8, 0x55),
        "UDP to a closed gateway port" => UdpTo(TestFrames.Gateway, 9),
        "broadcast UDP to a port without a service" => TestFrames.Udp(Guest, MacAddress.Broadcast, TestFrames.Guest, Ipv4Address.Broadcast, 137, 137, new byte[8]),
        "broadcast ping" => TestFrames.IcmpEcho(Guest, TestFrames.Guest, Ipv4Address.Parse("192.168.65.255"), 1, 1),
        "IPv4 to another guest" => UdpTo(Ipv4Address.Parse("192.168.65.4"), 9),
        "IPv4 to a multicast group" => UdpTo(Ipv4Address.Parse("224.0.0.251"), 5353),
        "ping from a multicast MAC" => TestFrames.IcmpEcho(new MacAddress(0x0300_0000_0001), TestFrames.Guest, TestFrames.Gateway, 1, 1),
        _ => throw new ArgumentException(input),
    };

    private static byte[] Echo() => TestFrames.IcmpEcho(Guest, TestFrames.Guest, TestFrames.Gateway, 1, 1);

    private static byte[] EchoFrom(string source) => TestFrames.IcmpEcho(Guest, Ipv4Address.Parse(source), TestFrames.Gateway, 1, 1);

    private static byte[] UdpTo(Ipv4Address destination, ushort port) =>
        TestFrames.Udp(Guest, Stack, TestFrames.Guest, destination, 40000, port, new byte[16]);

    private static byte[] Icmp(byte type)
    {
        byte[] icmp = new byte[IcmpV4Message.HeaderLength + 12];
        var message = new IcmpV4Message(icmp) { Type = type };
        message.FillChecksum();
        return TestFrames.Ipv4(Guest, Stack, TestFrames.Guest, TestFrames.Gateway, IpProtocol.Icmp, icmp);
    }

    private static byte[] Patch(byte[] frame, int offset, params byte[] bytes)
    {
        bytes.CopyTo(frame, offset);
        return frame;
    }

    /// <summary>Changes IPv4 header bytes and keeps the checksum right, so that only the change is wrong.</summary>
    private static byte[] Header(byte[] frame, int offset, params byte[] bytes)
    {
        Patch(frame, EthernetFrame.HeaderLength + offset, bytes);
        var header = frame.AsSpan(EthernetFrame.HeaderLength, Ipv4Packet.MinHeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], InternetChecksum.Compute(header));
        return frame;
    }
}
