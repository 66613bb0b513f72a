using Usernet.Link;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Link;

/// <summary>
/// The switch's <see cref="SourceGuard"/>: three guests, as VMs on one `usernet serve`. A holds
/// its addresses, B tries to pass for A or for the gateway, C is a bystander that sees what
/// gets through.
/// </summary>
public sealed partial class VirtualSwitchTests
{
    private static readonly Ipv4Address AddressA = Ipv4Address.Parse("192.168.65.3");
    private static readonly Ipv4Address AddressC = Ipv4Address.Parse("192.168.65.5");
    private static readonly Ipv4Address Free = Ipv4Address.Parse("192.168.65.9");
    private static readonly Ipv6Address AddressA6 = Ipv6Address.Parse("fdc4:f303:9324::3");
    private static readonly Ipv6Address LinkLocalA = Ipv6Address.Parse("fe80::a");
    private static readonly Ipv6Address LinkLocalB = Ipv6Address.Parse("fe80::b");
    private static readonly Ipv6Address AllNodes = Ipv6Address.Parse("ff02::1");

    /// <summary>C is known, so that frames to it are switched, not flooded; A has taken its addresses by using them.</summary>
    private void AHoldsItsAddresses()
    {
        Send(_c, TestFrames.ArpRequest(MacC, AddressC, TestFrames.Gateway));
        Send(_a, TestFrames.ArpRequest(MacA, AddressA, TestFrames.Gateway));
        Send(_a, Ipv6(MacA, MacC, AddressA6, Ipv6Address.Parse("fdc4:f303:9324::5"), IpProtocol.Udp, Udp6(40000, 7)));
        Clear();
    }

    private SwitchCounters Counters => _switch.Counters;

    private void Send(RecordingLink link, byte[] frame) => _switch.OnFrame(link, frame, Instant.FromMilliseconds(5_000));

    private void Clear()
    {
        ClearSent();
        _stack.Received.Clear();
    }

    /// <summary>Asserts that the frame B sent reached nobody.</summary>
    private void AssertStopped()
    {
        Assert.Empty(_a.Sent);
        Assert.Empty(_c.Sent);
        Assert.Empty(_stack.Received);
    }

    private static byte[] Arp(ArpOperation operation, MacAddress frameSource, MacAddress sender, Ipv4Address senderIp, Ipv4Address targetIp)
    {
        byte[] arp = new byte[ArpPacket.Length];
        ArpPacket.Write(arp, operation, sender, senderIp, MacAddress.Zero, targetIp);
        return TestFrames.Ethernet(frameSource, MacAddress.Broadcast, EtherType.Arp, arp);
    }

    private static byte[] Ipv6(MacAddress source, MacAddress destination, Ipv6Address from, Ipv6Address to, byte nextHeader, byte[] payload)
    {
        byte[] packet = new byte[Ipv6Packet.HeaderLength + payload.Length];
        Ipv6Packet.WriteHeader(packet, from, to, nextHeader, payload.Length, 255);
        payload.CopyTo(packet.AsSpan(Ipv6Packet.HeaderLength));
        if (nextHeader == IpProtocol.Icmpv6)
        {
            new Icmpv6Message(packet.AsSpan(Ipv6Packet.HeaderLength)).FillChecksum(
                InternetChecksum.PseudoHeaderV6(from, to, IpProtocol.Icmpv6, payload.Length));
        }
        return TestFrames.Ethernet(source, destination, EtherType.Ipv6, packet);
    }

    private static byte[] Udp6(ushort sourcePort, ushort destinationPort)
    {
        byte[] udp = new byte[UdpDatagram.HeaderLength + 16];
        UdpDatagram.WriteHeader(udp, sourcePort, destinationPort, 16);
        return udp;
    }

    /// <summary>A neighbor solicitation or advertisement for <paramref name="target"/>, with a link-layer address option when given.</summary>
    private static byte[] Ndp(byte type, Ipv6Address target, MacAddress? linkLayer)
    {
        byte[] message = new byte[24 + (linkLayer is null ? 0 : 8)];
        message[0] = type;
        if (type == Icmpv6Type.NeighborAdvertisement)
        {
            message[4] = 0x20;
        }
        target.Write(message.AsSpan(8));
        if (linkLayer is { } mac)
        {
            byte option = type == Icmpv6Type.NeighborAdvertisement ? NdpOption.TargetLinkLayerAddress : NdpOption.SourceLinkLayerAddress;
            NdpMessage.WriteLinkLayerOption(message.AsSpan(24), option, mac);
        }
        return message;
    }

    private static byte[] RouterAdvertisement()
    {
        byte[] message = new byte[16 + 8];
        message[0] = Icmpv6Type.RouterAdvertisement;
        message[4] = 64;
        message[6] = 0x07;
        message[7] = 0x08;
        NdpMessage.WriteLinkLayerOption(message.AsSpan(16), NdpOption.SourceLinkLayerAddress, MacB);
        return message;
    }

    [Fact]
    public void AnAddressInUseIsItsFirstSendersAndAForgeryIsDroppedToTheStackAndToGuests()
    {
        AHoldsItsAddresses();
        Send(_b, TestFrames.Udp(MacB, TestFrames.StackMac, AddressA, TestFrames.Gateway, 40000, 53, "forged"u8));
        Send(_b, TestFrames.Udp(MacB, MacC, AddressA, AddressC, 40000, 7, "forged"u8));
        Send(_b, Ipv6(MacB, MacC, AddressA6, Ipv6Address.Parse("fdc4:f303:9324::5"), IpProtocol.Udp, Udp6(40000, 7)));
        AssertStopped();
        Assert.Equal(3, Counters.AddressSpoofed);

        Send(_a, TestFrames.Udp(MacA, MacC, AddressA, AddressC, 40000, 7, "real"u8));
        Assert.Single(_c.Sent);
        Send(_b, TestFrames.Udp(MacB, MacC, Free, AddressC, 40000, 7, "its own"u8));
        Assert.Equal(2, _c.Sent.Count);
        Assert.Equal(3, Counters.AddressSpoofed);
    }

    [Fact]
    public void AForgedArpReplyOrGratuitousArpForAnothersAddressIsDropped()
    {
        AHoldsItsAddresses();
        Send(_b, Arp(ArpOperation.Reply, MacB, MacB, AddressA, TestFrames.Gateway));
        Send(_b, Arp(ArpOperation.Request, MacB, MacB, AddressA, AddressA));
        Send(_b, Arp(ArpOperation.Reply, MacB, MacB, AddressA, AddressA));
        AssertStopped();
        Assert.Equal(3, Counters.AddressSpoofed);

        // B's gratuitous ARP for a free address announces it, and the address is B's from now on.
        Send(_b, Arp(ArpOperation.Request, MacB, MacB, Free, Free));
        Assert.Single(_a.Sent);
        Assert.Single(_stack.Received);
        Assert.Equal(MacB, _switch.Addresses.HolderOf(Free, Instant.FromMilliseconds(5_000)));
    }

    [Fact]
    public void AnArpProbeClaimsNothingAndGoesThrough()
    {
        AHoldsItsAddresses();
        // RFC 5227 §2.1.1: a host checking whether an address is taken asks from 0.0.0.0.
        Send(_b, Arp(ArpOperation.Request, MacB, MacB, Ipv4Address.Any, AddressA));
        Assert.Single(_a.Sent);
        Assert.Equal(0, Counters.AddressSpoofed);
        Assert.Equal(MacA, _switch.Addresses.HolderOf(AddressA, Instant.FromMilliseconds(5_000)));
    }

    [Fact]
    public void ArpOrNdpThatNamesAnotherMacThanTheFramesIsDropped()
    {
        AHoldsItsAddresses();
        Send(_b, Arp(ArpOperation.Reply, MacB, MacA, Free, TestFrames.Gateway));
        Send(_b, Ipv6(MacB, MacAddress.ForIpv6Multicast(AllNodes), LinkLocalB, AllNodes, IpProtocol.Icmpv6,
            Ndp(Icmpv6Type.NeighborAdvertisement, LinkLocalB, MacA)));
        Send(_b, Ipv6(MacB, TestFrames.StackMac, LinkLocalB, Ipv6Address.Parse("fe80::1"), IpProtocol.Icmpv6,
            Ndp(Icmpv6Type.NeighborSolicitation, Ipv6Address.Parse("fe80::1"), MacC)));
        AssertStopped();
        Assert.Equal(3, Counters.MacSpoofed);
    }

    [Fact]
    public void NoGuestSpeaksForTheGatewayOrTheHost()
    {
        AHoldsItsAddresses();
        var options = new Usernet.Stack.StackOptions();
        Send(_b, Arp(ArpOperation.Reply, MacB, MacB, TestFrames.Gateway, AddressA));
        Send(_b, TestFrames.Udp(MacB, MacC, TestFrames.Host, AddressC, 53, 40000, "forged"u8));
        Send(_b, Ipv6(MacB, MacC, options.GatewayV6, Ipv6Address.Parse("fdc4:f303:9324::5"), IpProtocol.Udp, Udp6(53, 40000)));
        Send(_b, Ipv6(MacB, MacAddress.ForIpv6Multicast(AllNodes), LinkLocalB, AllNodes, IpProtocol.Icmpv6,
            Ndp(Icmpv6Type.NeighborAdvertisement, options.GatewayLinkLocal, MacB)));
        AssertStopped();
        Assert.Equal(4, Counters.AddressSpoofed);
    }

    [Fact]
    public void AddressesOffTheLanAreNotBound()
    {
        AHoldsItsAddresses();
        // A guest may route for a network behind it; the stack drops what it must not take.
        var routed = Ipv4Address.Parse("198.18.0.1");
        Send(_a, TestFrames.Udp(MacA, MacC, routed, AddressC, 40000, 7, "from behind A"u8));
        Send(_b, TestFrames.Udp(MacB, MacC, routed, AddressC, 40000, 7, "from behind B"u8));
        Assert.Equal(2, _c.Sent.Count);
        Assert.Null(_switch.Addresses.HolderOf(routed, Instant.FromMilliseconds(5_000)));
    }

    [Fact]
    public void ALeasedAddressIsItsClientsBeforeTheClientHasUsedIt()
    {
        AHoldsItsAddresses();
        var now = Instant.FromMilliseconds(5_000);
        _switch.Addresses.Lease(Free, MacA, now, now + TimeSpan.FromHours(1));
        Send(_b, Arp(ArpOperation.Request, MacB, MacB, Free, Free));
        AssertStopped();
        Assert.Equal(1, Counters.AddressSpoofed);
        Send(_a, Arp(ArpOperation.Request, MacA, MacA, Free, Free));
        Assert.Single(_c.Sent);
    }

    [Fact]
    public void DuplicateAddressDetectionFindsTheHolderAndOnlyTheHolderAnswers()
    {
        AHoldsItsAddresses();
        // B's kernel checks the address before it uses it (RFC 4862 §5.4.2): from ::, no option.
        var group = AddressA6.SolicitedNode;
        Send(_b, Ipv6(MacB, MacAddress.ForIpv6Multicast(group), Ipv6Address.Any, group, IpProtocol.Icmpv6,
            Ndp(Icmpv6Type.NeighborSolicitation, AddressA6, null)));
        Assert.Single(_a.Sent);
        Assert.Equal(0, Counters.AddressSpoofed);

        // A defends it; B cannot answer for it.
        Clear();
        Send(_a, Ipv6(MacA, MacAddress.ForIpv6Multicast(AllNodes), AddressA6, AllNodes, IpProtocol.Icmpv6,
            Ndp(Icmpv6Type.NeighborAdvertisement, AddressA6, MacA)));
        Assert.Single(_b.Sent);
        Clear();
        Send(_b, Ipv6(MacB, MacAddress.ForIpv6Multicast(AllNodes), LinkLocalB, AllNodes, IpProtocol.Icmpv6,
            Ndp(Icmpv6Type.NeighborAdvertisement, AddressA6, MacB)));
        AssertStopped();
        Assert.Equal(1, Counters.AddressSpoofed);
    }

    [Fact]
    public void RouterAdvertisementsAndRedirectsFromAGuestAreDroppedAndCounted()
    {
        AHoldsItsAddresses();
        Send(_b, Ipv6(MacB, MacAddress.ForIpv6Multicast(AllNodes), LinkLocalB, AllNodes, IpProtocol.Icmpv6, RouterAdvertisement()));
        byte[] redirect = new byte[40];
        redirect[0] = Icmpv6Type.Redirect;
        LinkLocalB.Write(redirect.AsSpan(8));
        AddressA6.Write(redirect.AsSpan(24));
        Send(_b, Ipv6(MacB, MacA, LinkLocalB, LinkLocalA, IpProtocol.Icmpv6, redirect));
        AssertStopped();
        Assert.Equal(2, Counters.RouterMessages);
    }

    [Fact]
    public void ARouterAdvertisementInAFirstFragmentOrBehindTooManyExtensionHeadersIsDropped()
    {
        AHoldsItsAddresses();
        byte[] ra = RouterAdvertisement();
        byte[] fragment = new byte[8 + ra.Length];
        Ipv6Packet.WriteFragmentHeader(fragment, IpProtocol.Icmpv6, 0, moreFragments: true, 7);
        ra.CopyTo(fragment, 8);
        Send(_b, Ipv6(MacB, MacAddress.ForIpv6Multicast(AllNodes), LinkLocalB, AllNodes, IpProtocol.Ipv6Fragment, fragment));
        Assert.Equal(1, Counters.RouterMessages);

        // RFC 7113 §3: a chain the guard cannot see the end of is not let through.
        const int Headers = 9;
        byte[] chain = new byte[Headers * 8 + ra.Length];
        for (int i = 0; i < Headers; i++)
        {
            chain[i * 8] = i == Headers - 1 ? IpProtocol.Icmpv6 : IpProtocol.Ipv6Options;
        }
        ra.CopyTo(chain, Headers * 8);
        Send(_b, Ipv6(MacB, MacAddress.ForIpv6Multicast(AllNodes), LinkLocalB, AllNodes, IpProtocol.Ipv6Options, chain));
        AssertStopped();
        Assert.Equal(1, Counters.Unverifiable);
    }

    [Fact]
    public void DhcpAndDhcpv6ServerMessagesFromAGuestAreDroppedAndCounted()
    {
        AHoldsItsAddresses();
        // An OFFER broadcast, a unicast ACK to a client's port, a DHCPv6 ADVERTISE.
        Send(_b, TestFrames.Udp(MacB, MacAddress.Broadcast, Free, Ipv4Address.Broadcast, 67, 68, new byte[240]));
        Send(_b, TestFrames.Udp(MacB, MacA, Free, AddressA, 5000, 68, new byte[240]));
        var dhcpv6Clients = Ipv6Address.Parse("ff02::1:2");
        Send(_b, Ipv6(MacB, MacA, LinkLocalB, LinkLocalA, IpProtocol.Udp, Udp6(547, 546)));
        AssertStopped();
        Assert.Equal(3, Counters.DhcpServerMessages);

        // What clients send goes to the gateway as ever.
        Send(_b, TestFrames.DhcpDiscover(MacB, 1));
        Send(_b, Ipv6(MacB, MacAddress.ForIpv6Multicast(dhcpv6Clients), LinkLocalB, dhcpv6Clients, IpProtocol.Udp, Udp6(546, 547)));
        Assert.Equal(2, _stack.Received.Count);
        Assert.Equal(3, Counters.DhcpServerMessages);
    }

    [Fact]
    public void WhenALinkClosesItsAddressesAreFreeForOthers()
    {
        AHoldsItsAddresses();
        _switch.OnLinkClosed(_a, "the peer closed the connection");
        Send(_b, TestFrames.Udp(MacB, MacC, AddressA, AddressC, 40000, 7, "now mine"u8));
        Send(_b, Ipv6(MacB, MacC, AddressA6, Ipv6Address.Parse("fdc4:f303:9324::5"), IpProtocol.Udp, Udp6(40000, 7)));
        Assert.Equal(2, _c.Sent.Count);
        Assert.Equal(0, Counters.AddressSpoofed);
    }

    [Fact]
    public void AFloodOfForgedSourcesFromOneGuestLeavesTheOthersBound()
    {
        AHoldsItsAddresses();
        var now = Instant.FromMilliseconds(5_000);
        for (int i = 0; i < 1000; i++)
        {
            var source = new Ipv6Address(Ipv6Address.Parse("fdc4:f303:9324::1:0").Value + (UInt128)i);
            _switch.OnFrame(_b, Ipv6(MacB, MacC, source, Ipv6Address.Parse("fdc4:f303:9324::5"), IpProtocol.Udp, Udp6(40000, 7)), now);
        }
        Assert.Equal(MacA, _switch.Addresses.HolderOf(AddressA6, now));
        Assert.Equal(MacA, _switch.Addresses.HolderOf(AddressA, now));
        Clear();
        Send(_b, TestFrames.Udp(MacB, MacC, AddressA, AddressC, 40000, 7, "forged"u8));
        Assert.Empty(_c.Sent);
    }

    [Fact]
    public void CheckingAFrameFromAKnownGuestAllocatesNothing()
    {
        var guard = new SourceGuard(new MacTable(), new AddressBindings()) { Stack = _stack };
        byte[][] frames =
        [
            TestFrames.ArpRequest(MacA, AddressA, TestFrames.Gateway),
            TestFrames.Udp(MacA, MacC, AddressA, AddressC, 40000, 7, "data"u8),
            Ipv6(MacA, MacC, AddressA6, Ipv6Address.Parse("fdc4:f303:9324::5"), IpProtocol.Udp, Udp6(40000, 7)),
            Ipv6(MacA, MacAddress.ForIpv6Multicast(AllNodes), AddressA6, AllNodes, IpProtocol.Icmpv6,
                Ndp(Icmpv6Type.NeighborAdvertisement, AddressA6, MacA)),
            Ipv6(MacB, MacAddress.ForIpv6Multicast(AllNodes), LinkLocalB, AllNodes, IpProtocol.Icmpv6, RouterAdvertisement()),
        ];
        var now = Instant.FromMilliseconds(5_000);
        long Run(int count)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < count; i++)
            {
                now += TimeSpan.FromMilliseconds(1);
                byte[] frame = frames[i % frames.Length];
                EthernetFrame.TryParse(frame, out var ethernet);
                guard.Check(ethernet, ethernet.Source == MacA ? _a : _b, now);
            }
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        // The first round learns the MACs and binds the addresses.
        Run(frames.Length);
        Assert.Equal(0, Run(10_000));
    }
}
