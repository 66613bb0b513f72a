using System.Buffers.Binary;
using Usernet.Platform;
using Usernet.Stack;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

/// <summary>Neighbour and router discovery (RFC 4861) between a guest and the stack, frame by frame.</summary>
public sealed class NetworkStackNdpTests
{
    private static readonly StackOptions Options = new();
    private static readonly Ipv6Address Guest = Ipv6Address.Parse("fdc4:f303:9324::3");
    private static readonly Ipv6Address GuestLinkLocal = Ipv6Address.Parse("fe80::3");
    private static readonly Ipv6Address AllNodes = Ipv6Address.Parse("ff02::1");
    private static readonly Ipv6Address AllRouters = Ipv6Address.Parse("ff02::2");
    private static readonly MacAddress GuestMac = TestFrames.GuestMac;

    /// <summary>An NDP message from the guest: type, the 4 bytes after the checksum, a target for NS and NA, options.</summary>
    private static byte[] Ndp(
        byte type, Ipv6Address source, Ipv6Address destination, Ipv6Address? target = null, uint word = 0,
        byte[]? options = null, byte hopLimit = 255, byte code = 0, MacAddress? from = null)
    {
        int fixedLength = target is null ? 8 : 24;
        options ??= [];
        byte[] message = new byte[fixedLength + options.Length];
        var icmp = new Icmpv6Message(message) { Type = type, Code = code, Word = word };
        target?.Write(message.AsSpan(8));
        options.CopyTo(message, fixedLength);
        icmp.FillChecksum(InternetChecksum.PseudoHeaderV6(source, destination, IpProtocol.Icmpv6, message.Length));
        return TestFrames.Ipv6(from ?? GuestMac, source, destination, IpProtocol.Icmpv6, message, hopLimit);
    }

    private static byte[] LinkLayer(byte kind, MacAddress mac)
    {
        byte[] option = new byte[8];
        NdpMessage.WriteLinkLayerOption(option, kind, mac);
        return option;
    }

    private static byte[] Solicitation(Ipv6Address source, Ipv6Address target, bool withAddress = true, byte hopLimit = 255, byte code = 0) =>
        Ndp(Icmpv6Type.NeighborSolicitation, source, target.SolicitedNode, target,
            options: withAddress ? LinkLayer(NdpOption.SourceLinkLayerAddress, GuestMac) : null, hopLimit: hopLimit, code: code);

    /// <summary>An NDP message the stack sent: its frame's addresses and the checked ICMPv6 message.</summary>
    private sealed record Sent(MacAddress DestinationMac, Ipv6Address Source, Ipv6Address Destination, byte HopLimit, byte[] Message)
    {
        public byte Type => Message[0];

        public static Sent Parse(byte[] frame)
        {
            Assert.True(EthernetFrame.TryParse(frame, out var ethernet));
            Assert.Equal(TestFrames.StackMac, ethernet.Source);
            Assert.Equal(EtherType.Ipv6, ethernet.EtherType);
            Assert.Equal(Ipv6ParseError.None, Ipv6Packet.TryParse(ethernet.Payload, out var ip));
            Assert.Equal(IpProtocol.Icmpv6, ip.NextHeader);
            Assert.True(Icmpv6Message.TryParse(ip.Payload, ip.PseudoHeaderSum(IpProtocol.Icmpv6, ip.Payload.Length), out _, out bool valid));
            Assert.True(valid);
            return new Sent(ethernet.Destination, ip.Source, ip.Destination, ip.HopLimit, ip.Payload.ToArray());
        }
    }

    [Theory]
    // The gateway's addresses answer as a router; the host address is a host (RFC 4861 §4.4).
    [InlineData("fdc4:f303:9324::1", true)]
    [InlineData("fdc4:f303:9324::254", false)]
    public void ASolicitationForOneOfOurAddressesIsAnswered(string ours, bool router)
    {
        var harness = new StackHarness();
        var target = Ipv6Address.Parse(ours);
        var na = Sent.Parse(harness.AnswerOne(Solicitation(Guest, target)));

        Assert.Equal(Icmpv6Type.NeighborAdvertisement, na.Type);
        Assert.Equal((GuestMac, target, Guest, 255), (na.DestinationMac, na.Source, na.Destination, (int)na.HopLimit));
        // Solicited and Override, and Router for the gateway.
        Assert.Equal((router ? 0x80 : 0) | 0x40 | 0x20, na.Message[4]);
        Assert.Equal(target, NdpMessage.Target(na.Message));
        Assert.True(NdpMessage.TryReadOptions(na.Message, Icmpv6Type.NeighborAdvertisement, out var mac));
        Assert.Equal(TestFrames.StackMac, mac);
        // The solicitation taught the stack the guest's address.
        Assert.True(harness.Stack.Neighbours.TryGet(Guest, out var neighbour));
        Assert.Equal(GuestMac, neighbour.Mac);
    }

    [Fact]
    public void TheGatewaysLinkLocalAddressAnswersTheGuestsLinkLocal()
    {
        var harness = new StackHarness();
        var na = Sent.Parse(harness.AnswerOne(Solicitation(GuestLinkLocal, Options.GatewayLinkLocal)));
        Assert.Equal((Options.GatewayLinkLocal, GuestLinkLocal), (na.Source, na.Destination));
        Assert.Equal(0xE0, na.Message[4]);
    }

    [Fact]
    public void ASolicitationForAnotherAddressIsNotAnsweredButTeachesTheSender()
    {
        var harness = new StackHarness();
        Assert.Empty(harness.Answer(Solicitation(Guest, Ipv6Address.Parse("fdc4:f303:9324::4"))));
        Assert.Equal(1, harness.Counters.Dropped(DropReason.NotForUs));
        Assert.True(harness.Stack.Neighbours.TryGet(Guest, out _));
    }

    [Fact]
    public void DuplicateAddressDetectionForAFreeAddressGetsNoAnswer()
    {
        // RFC 4862 §5.4.2: from ::, to the tentative address's solicited-node group, no source address option.
        var harness = new StackHarness();
        Assert.Empty(harness.Answer(Solicitation(Ipv6Address.Any, Guest, withAddress: false)));
        Assert.Equal(0, harness.Stack.Neighbours.Count);
    }

    [Fact]
    public void DuplicateAddressDetectionForOurAddressIsDefendedToAllNodes()
    {
        // A guest that would take the gateway's address hears it is in use (RFC 4862 §5.4.3):
        // an unsolicited advertisement to all nodes.
        var harness = new StackHarness();
        var na = Sent.Parse(harness.AnswerOne(Solicitation(Ipv6Address.Any, Options.GatewayV6, withAddress: false)));
        Assert.Equal((AllNodes, MacAddress.ForIpv6Multicast(AllNodes)), (na.Destination, na.DestinationMac));
        Assert.Equal(0x80 | 0x20, na.Message[4]);
        Assert.Equal(0, harness.Stack.Neighbours.Count);
    }

    public static TheoryData<string, byte[]> HostileSolicitations() => new()
    {
        // Not from this link: a router on the way would have lowered the hop limit (RFC 4861 §7.1.1).
        { "hop limit 254", Solicitation(Guest, Options.GatewayV6, hopLimit: 254) },
        { "code 1", Solicitation(Guest, Options.GatewayV6, code: 1) },
        { "multicast target", Ndp(Icmpv6Type.NeighborSolicitation, Guest, AllNodes, AllNodes, options: LinkLayer(NdpOption.SourceLinkLayerAddress, GuestMac)) },
        { "unspecified source with an address option", Solicitation(Ipv6Address.Any, Options.GatewayV6) },
        { "zero-length option", Ndp(Icmpv6Type.NeighborSolicitation, Guest, Options.GatewayV6.SolicitedNode, Options.GatewayV6, options: [1, 0, 0, 0, 0, 0, 0, 0]) },
        { "option past the end", Ndp(Icmpv6Type.NeighborSolicitation, Guest, Options.GatewayV6.SolicitedNode, Options.GatewayV6, options: [1, 2, 0, 0, 0, 0, 0, 0]) },
        { "16-byte link-layer address", Ndp(Icmpv6Type.NeighborSolicitation, Guest, Options.GatewayV6.SolicitedNode, Options.GatewayV6, options: [1, 2, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0]) },
        { "cut before the target", Ndp(Icmpv6Type.NeighborSolicitation, Guest, Options.GatewayV6.SolicitedNode) },
    };

    [Theory]
    [MemberData(nameof(HostileSolicitations))]
    public void AMalformedSolicitationIsDroppedAndCounted(string what, byte[] frame)
    {
        var harness = new StackHarness();
        Assert.Empty(harness.Answer(frame));
        Assert.True(harness.Counters.Dropped(DropReason.NdpMalformed) == 1, what);
        Assert.False(harness.Stack.Neighbours.TryGet(Guest, out var neighbour) && neighbour.Mac != GuestMac, what);
    }

    [Fact]
    public void AnAdvertisementTeachesTheTargetsAddress()
    {
        var harness = new StackHarness();
        var other = new MacAddress(0x02_00_00_00_00_44);
        var target = Ipv6Address.Parse("fdc4:f303:9324::44");
        Assert.Empty(harness.Answer(Ndp(Icmpv6Type.NeighborAdvertisement, target, AllNodes, target, word: 0x2000_0000,
            options: LinkLayer(NdpOption.TargetLinkLayerAddress, other), from: other)));
        Assert.True(harness.Stack.Neighbours.TryGet(target, out var neighbour));
        Assert.Equal(other, neighbour.Mac);
    }

    [Theory]
    [InlineData("ff02::1")]
    [InlineData("2001:db8::1")]
    public void AnAdvertisementForAnAddressOffTheLinkTeachesNothing(string target)
    {
        var harness = new StackHarness();
        var address = Ipv6Address.Parse(target);
        harness.Answer(Ndp(Icmpv6Type.NeighborAdvertisement, Guest, AllNodes, address, word: 0x2000_0000,
            options: LinkLayer(NdpOption.TargetLinkLayerAddress, GuestMac)));
        Assert.False(harness.Stack.Neighbours.TryGet(address, out _));
    }

    [Fact]
    public void AnAdvertisementReleasesWhatWaitedForTheAddress()
    {
        // A datagram for a guest the stack has not heard from waits for its advertisement.
        var harness = new StackHarness();
        var other = Ipv6Address.Parse("fdc4:f303:9324::9");
        var otherMac = new MacAddress(0x02_00_00_00_00_09);
        harness.Stack.SendUdp(new IpEndpoint(Options.GatewayV6, 53), new IpEndpoint(other, 5353), "held"u8);
        var solicitation = Sent.Parse(Assert.Single(harness.Sent.Take()));
        Assert.Equal(Icmpv6Type.NeighborSolicitation, solicitation.Type);
        Assert.Equal((other.SolicitedNode, other), (solicitation.Destination, NdpMessage.Target(solicitation.Message)));

        var released = Assert.Single(harness.Answer(Ndp(Icmpv6Type.NeighborAdvertisement, other, Options.GatewayLinkLocal, other,
            word: 0x6000_0000, options: LinkLayer(NdpOption.TargetLinkLayerAddress, otherMac), from: otherMac)));
        Assert.True(EthernetFrame.TryParse(released, out var ethernet));
        Assert.Equal(otherMac, ethernet.Destination);
    }

    [Fact]
    public void ARouterSolicitationGetsAFullAdvertisement()
    {
        var harness = new StackHarness(new StackOptions { DnsSearchList = [4, .. "corp"u8, 4, .. "test"u8, 0] });
        var ra = Sent.Parse(harness.AnswerOne(Ndp(Icmpv6Type.RouterSolicitation, GuestLinkLocal, AllRouters,
            options: LinkLayer(NdpOption.SourceLinkLayerAddress, GuestMac))));

        Assert.Equal(Icmpv6Type.RouterAdvertisement, ra.Type);
        Assert.Equal((Options.GatewayLinkLocal, AllNodes, 255), (ra.Source, ra.Destination, (int)ra.HopLimit));
        var message = ra.Message.AsSpan();
        Assert.Equal(64, message[4]);
        // Managed and Other: DHCPv6 gives addresses and DNS as well as SLAAC.
        Assert.Equal(0xC0, message[5]);
        Assert.Equal(1800, BinaryPrimitives.ReadUInt16BigEndian(message[6..]));
        Assert.True(NdpMessage.TryReadOptions(ra.Message, Icmpv6Type.RouterAdvertisement, out var mac));
        Assert.Equal(TestFrames.StackMac, mac);

        var options = new Dictionary<byte, byte[]>();
        for (var rest = message[16..]; rest.Length > 0; rest = rest[(rest[1] * 8)..])
        {
            options[rest[0]] = rest[..(rest[1] * 8)].ToArray();
        }
        Assert.Equal(1500u, BinaryPrimitives.ReadUInt32BigEndian(options[NdpOption.Mtu].AsSpan(4)));
        byte[] prefix = options[NdpOption.PrefixInformation];
        Assert.Equal((64, 0xC0), (prefix[2], prefix[3] & 0xC0));
        Assert.Equal(Options.Ipv6Prefix.Network, Ipv6Address.Read(prefix.AsSpan(16)));
        Assert.Equal(Options.GatewayV6, Ipv6Address.Read(options[NdpOption.RecursiveDnsServer].AsSpan(8)));
        Assert.Equal([4, .. "corp"u8, 4, .. "test"u8, 0, 0, 0, 0, 0, 0], options[NdpOption.DnsSearchList].AsSpan(8).ToArray());
        Assert.True(harness.Stack.Neighbours.TryGet(GuestLinkLocal, out _));
    }

    [Fact]
    public void TheAdvertisedMtuIsTheLinks()
    {
        var harness = new StackHarness(linkMtu: 65520);
        var ra = Sent.Parse(harness.AnswerOne(Ndp(Icmpv6Type.RouterSolicitation, GuestLinkLocal, AllRouters)));
        int at = 16;
        while (ra.Message[at] != NdpOption.Mtu)
        {
            at += ra.Message[at + 1] * 8;
        }
        Assert.Equal(65520u, BinaryPrimitives.ReadUInt32BigEndian(ra.Message.AsSpan(at + 4)));
    }

    [Fact]
    public void ARouterSolicitationFromTheUnspecifiedAddressWithALinkLayerAddressIsDropped()
    {
        // RFC 4861 §6.1.1: an unspecified source must not carry a source link-layer address.
        var harness = new StackHarness();
        Assert.Empty(harness.Answer(Ndp(Icmpv6Type.RouterSolicitation, Ipv6Address.Any, AllRouters,
            options: LinkLayer(NdpOption.SourceLinkLayerAddress, GuestMac))));
        Assert.Equal(1, harness.Counters.Dropped(DropReason.NdpMalformed));
    }

    [Fact]
    public void ARouterSolicitationFromTheUnspecifiedAddressIsAnswered()
    {
        var harness = new StackHarness();
        var ra = Sent.Parse(harness.AnswerOne(Ndp(Icmpv6Type.RouterSolicitation, Ipv6Address.Any, AllRouters)));
        Assert.Equal(AllNodes, ra.Destination);
    }

    [Fact]
    public void EveryLinkHearsAnUnsolicitedAdvertisementNowAndThen()
    {
        var harness = new StackHarness();
        var second = new RecordingLink("second");
        harness.Sent.AttachedLinks.AddRange([harness.Link, second]);
        var timers = harness.Timers;

        timers.RunDue(Instant.Zero);
        Assert.Equal(2, harness.Sent.Take().Count(f => Sent.Parse(f).Type == Icmpv6Type.RouterAdvertisement));
        Assert.Equal(Instant.Zero + TimeSpan.FromSeconds(200), timers.NextDue);
        timers.RunDue(Instant.Zero + TimeSpan.FromSeconds(200));
        Assert.Equal(2, harness.Sent.Take().Count);
    }

    [Fact]
    public void MulticastListenerReportsAndOtherRoutersAdvertisementsAreIgnored()
    {
        var harness = new StackHarness();
        Assert.Empty(harness.Answer(Ndp(Icmpv6Type.RouterAdvertisement, GuestLinkLocal, AllNodes, word: 0x40C0_0708)));
        Assert.Equal(1, harness.Counters.Dropped(DropReason.NotForUs));
    }
}
