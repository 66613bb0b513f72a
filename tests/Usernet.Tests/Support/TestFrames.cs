using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>Builds Ethernet frames for tests: well-formed ones, which a test may then break on purpose.</summary>
internal static class TestFrames
{
    public static readonly MacAddress StackMac = new(0x02_55_4E_00_00_01);
    public static readonly Ipv4Address Gateway = Ipv4Address.Parse("192.168.65.1");
    public static readonly Ipv4Address Host = Ipv4Address.Parse("192.168.65.254");
    public static readonly Ipv4Address Guest = Ipv4Address.Parse("192.168.65.3");
    public static readonly MacAddress GuestMac = new(0x02_00_00_00_00_03);

    public static byte[] Ethernet(MacAddress source, MacAddress destination, ushort etherType, ReadOnlySpan<byte> payload)
    {
        byte[] frame = new byte[EthernetFrame.HeaderLength + payload.Length];
        EthernetFrame.WriteHeader(frame, destination, source, etherType);
        payload.CopyTo(frame.AsSpan(EthernetFrame.HeaderLength));
        return frame;
    }

    /// <summary>A broadcast ARP request from a guest, as a kernel sends it.</summary>
    public static byte[] ArpRequest(MacAddress senderMac, Ipv4Address senderIp, Ipv4Address targetIp)
    {
        byte[] arp = new byte[ArpPacket.Length];
        ArpPacket.Write(arp, ArpOperation.Request, senderMac, senderIp, MacAddress.Zero, targetIp);
        return Ethernet(senderMac, MacAddress.Broadcast, EtherType.Arp, arp);
    }

    public static byte[] Ipv4(
        MacAddress source, MacAddress destination, Ipv4Address sourceIp, Ipv4Address destinationIp, byte protocol,
        ReadOnlySpan<byte> payload, ushort identification = 1, byte ttl = 64, int fragmentOffset = 0, bool moreFragments = false)
    {
        byte[] frame = new byte[EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength + payload.Length];
        EthernetFrame.WriteHeader(frame, destination, source, EtherType.Ipv4);
        var packet = frame.AsSpan(EthernetFrame.HeaderLength);
        payload.CopyTo(packet[Ipv4Packet.MinHeaderLength..]);
        Ipv4Packet.WriteHeader(packet, sourceIp, destinationIp, protocol, payload.Length, identification, ttl, dontFragment: false);
        if (fragmentOffset != 0 || moreFragments)
        {
            var view = new Ipv4Packet(packet)
            {
                FragmentOffset = fragmentOffset,
                MoreFragments = moreFragments,
            };
            view.FillChecksum();
        }
        return frame;
    }

    /// <summary>An IPv6 frame (no extension headers) to the stack's MAC, or to the group MAC of a multicast destination.</summary>
    public static byte[] Ipv6(
        MacAddress source, Ipv6Address sourceIp, Ipv6Address destinationIp, byte nextHeader, ReadOnlySpan<byte> payload, byte hopLimit = 64)
    {
        byte[] frame = new byte[EthernetFrame.HeaderLength + Ipv6Packet.HeaderLength + payload.Length];
        var destination = destinationIp.IsMulticast ? MacAddress.ForIpv6Multicast(destinationIp) : StackMac;
        EthernetFrame.WriteHeader(frame, destination, source, EtherType.Ipv6);
        var packet = frame.AsSpan(EthernetFrame.HeaderLength);
        Ipv6Packet.WriteHeader(packet, sourceIp, destinationIp, nextHeader, payload.Length, hopLimit);
        payload.CopyTo(packet[Ipv6Packet.HeaderLength..]);
        return frame;
    }

    /// <summary>
    /// A TCP segment's bytes (header, <paramref name="options"/> as given, payload) with its
    /// checksum filled for the two addresses, which may be of either family.
    /// </summary>
    public static byte[] TcpSegmentBytes(
        IpEndpoint source, IpEndpoint destination, uint sequence, uint acknowledgment, TcpFlags flags,
        ReadOnlySpan<byte> payload = default, ReadOnlySpan<byte> options = default, ushort window = 65535)
    {
        int headerLength = TcpSegment.MinHeaderLength + options.Length;
        byte[] segment = new byte[headerLength + payload.Length];
        TcpSegment.WriteHeader(segment, source.Port, destination.Port, sequence, acknowledgment, flags, window, headerLength);
        options.CopyTo(segment.AsSpan(TcpSegment.MinHeaderLength));
        payload.CopyTo(segment.AsSpan(headerLength));
        FillTcpChecksum(segment, source.Address, destination.Address);
        return segment;
    }

    /// <summary>Fills the checksum of TCP segment bytes, after a test changed them.</summary>
    public static void FillTcpChecksum(byte[] segment, IpAddress source, IpAddress destination) =>
        new TcpSegment(segment).FillChecksum(source.IsV4
            ? InternetChecksum.PseudoHeaderV4(source.V4, destination.V4, IpProtocol.Tcp, segment.Length)
            : InternetChecksum.PseudoHeaderV6(source.V6, destination.V6, IpProtocol.Tcp, segment.Length));

    /// <summary>TCP segment bytes in an IPv4 or IPv6 frame (by the source's family) from <paramref name="sourceMac"/> to the stack.</summary>
    public static byte[] TcpFrame(MacAddress sourceMac, IpAddress source, IpAddress destination, ReadOnlySpan<byte> segment) =>
        source.IsV4
            ? Ipv4(sourceMac, StackMac, source.V4, destination.V4, IpProtocol.Tcp, segment)
            : Ipv6(sourceMac, source.V6, destination.V6, IpProtocol.Tcp, segment);

    /// <summary>A well-formed TCP segment from a guest to the stack, in a frame of the endpoints' family.</summary>
    public static byte[] Tcp(
        MacAddress sourceMac, IpEndpoint source, IpEndpoint destination, uint sequence, uint acknowledgment, TcpFlags flags,
        ReadOnlySpan<byte> payload = default, ReadOnlySpan<byte> options = default, ushort window = 65535) =>
        TcpFrame(sourceMac, source.Address, destination.Address,
            TcpSegmentBytes(source, destination, sequence, acknowledgment, flags, payload, options, window));

    public static byte[] IcmpEcho(
        MacAddress source, Ipv4Address sourceIp, Ipv4Address destinationIp, ushort id, ushort sequence, int dataLength = 32, byte ttl = 64)
    {
        byte[] icmp = new byte[IcmpV4Message.HeaderLength + dataLength];
        var message = new IcmpV4Message(icmp)
        {
            Type = IcmpV4Type.EchoRequest,
            Identifier = id,
            SequenceNumber = sequence,
        };
        for (int i = 0; i < dataLength; i++)
        {
            icmp[IcmpV4Message.HeaderLength + i] = (byte)i;
        }
        message.FillChecksum();
        return Ipv4(source, StackMac, sourceIp, destinationIp, IpProtocol.Icmp, icmp, ttl: ttl);
    }

    public static byte[] Udp(MacAddress source, MacAddress destination, Ipv4Address sourceIp, Ipv4Address destinationIp,
        ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> payload)
    {
        byte[] udp = new byte[UdpDatagram.HeaderLength + payload.Length];
        payload.CopyTo(udp.AsSpan(UdpDatagram.HeaderLength));
        UdpDatagram.WriteHeader(udp, sourcePort, destinationPort, payload.Length);
        new UdpDatagram(udp).FillChecksum(InternetChecksum.PseudoHeaderV4(sourceIp, destinationIp, IpProtocol.Udp, udp.Length));
        return Ipv4(source, destination, sourceIp, destinationIp, IpProtocol.Udp, udp);
    }

    /// <summary>A broadcast DHCPDISCOVER from <paramref name="client"/>, as a client with no address sends it.</summary>
    public static byte[] DhcpDiscover(MacAddress client, uint transactionId)
    {
        byte[] dhcp = TestDhcp.Message(DhcpMessageType.Discover, client, transactionId, broadcast: true);
        return Udp(client, MacAddress.Broadcast, Ipv4Address.Any, Ipv4Address.Broadcast, 68, 67, dhcp);
    }

    /// <summary>Recomputes the IPv4 header checksum of a frame after a test changed the header.</summary>
    public static void FixIpv4Checksum(byte[] frame)
    {
        var packet = new Ipv4Packet(frame.AsSpan(EthernetFrame.HeaderLength));
        packet.FillChecksum();
    }
}
