using Usernet.Link;
using Usernet.Wire;

namespace Usernet.Stack;

internal sealed partial class NetworkStack
{
    private readonly Dictionary<ushort, IUdpService> _udpServices = new();

    private void ReceiveUdpV4(Ipv4Packet ip, MacAddress sourceMac, FrameLink from, Instant now, bool broadcast)
    {
        if (!UdpDatagram.TryParse(ip.Payload, out var udp))
        {
            Counters.Drop(DropReason.UdpMalformed);
            return;
        }
        if (!FrameChecksumTrusted && !udp.VerifyChecksum(ip.PseudoHeaderSum(udp.Length), isIpv6: false))
        {
            Counters.Drop(DropReason.UdpBadChecksum);
            return;
        }
        Ipv4Address destination = ip.Destination;
        bool toGateway = destination == Options.Gateway;
        if ((toGateway || broadcast) && _udpServices.TryGetValue(udp.DestinationPort, out var service)
            && (toGateway || service.AcceptsBroadcast))
        {
            var request = new UdpRequest(
                new IpEndpoint(ip.Source, udp.SourcePort),
                new IpEndpoint(destination, udp.DestinationPort),
                sourceMac, from, udp.Payload);
            service.OnDatagram(request, now);
            return;
        }
        if (broadcast)
        {
            Counters.Drop(DropReason.NotForUs);
            return;
        }
        if (toGateway || UdpNat is null)
        {
            Counters.Drop(DropReason.UdpNoService);
            SendIcmpV4Error(IcmpV4Type.DestinationUnreachable, IcmpV4Code.PortUnreachable, 0, ip, destination, now);
            return;
        }
        UdpNat.Receive(new IpPacketView(ip) { LinkId = from.Id }, now);
    }

    private void ReceiveUdpV6(Ipv6Packet ip, Span<byte> payload, MacAddress sourceMac, FrameLink from, bool toStack, bool multicast, Instant now)
    {
        if (!UdpDatagram.TryParse(payload, out var udp))
        {
            Counters.Drop(DropReason.UdpMalformed);
            return;
        }
        if (!FrameChecksumTrusted && !udp.VerifyChecksum(InternetChecksum.PseudoHeaderV6(ip.Source, ip.Destination, IpProtocol.Udp, udp.Length), isIpv6: true))
        {
            Counters.Drop(DropReason.UdpBadChecksum);
            return;
        }
        var destination = ip.Destination;
        bool toGateway = destination == Options.GatewayV6 || destination == Options.GatewayLinkLocal;
        if ((toGateway || multicast) && _udpServices.TryGetValue(udp.DestinationPort, out var service) && (toGateway || service.AcceptsBroadcast))
        {
            var request = new UdpRequest(
                new IpEndpoint(ip.Source, udp.SourcePort), new IpEndpoint(destination, udp.DestinationPort), sourceMac, from, udp.Payload);
            service.OnDatagram(request, now);
            return;
        }
        if (multicast)
        {
            Counters.Drop(DropReason.NotForUs);
            return;
        }
        if (toGateway || UdpNat is null || (toStack && destination != Options.HostV6))
        {
            Counters.Drop(DropReason.UdpNoService);
            SendIcmpv6Error(Icmpv6Type.DestinationUnreachable, Icmpv6Code.PortUnreachable, 0, ip.Buffer, destination, now);
            return;
        }
        UdpNat.Receive(new IpPacketView(ip.Source, destination, IpProtocol.Udp, ip.HopLimit, payload, ip.Buffer) { LinkId = from.Id }, now);
    }

    /// <summary>Where a UDP payload starts for the family of <paramref name="family"/>.</summary>
    public Span<byte> UdpPayload(IpAddress family) => IpPayload(family)[UdpDatagram.HeaderLength..];

    /// <summary>
    /// Sends a UDP datagram of either family whose payload is already after the UDP header in
    /// <see cref="IpPayload"/> (zero-copy for NAT replies and services).
    /// </summary>
    public bool FinishUdp(IpEndpoint source, IpEndpoint destination, int payloadLength)
    {
        if (source.Address.IsV4)
        {
            return FinishUdpV4(source, destination, payloadLength);
        }
        int length = UdpDatagram.HeaderLength + payloadLength;
        Span<byte> segment = Ipv6Payload[..length];
        UdpDatagram.WriteHeader(segment, source.Port, destination.Port, payloadLength);
        new UdpDatagram(segment).FillChecksum(
            InternetChecksum.PseudoHeaderV6(source.Address.V6, destination.Address.V6, IpProtocol.Udp, length));
        return SendIpv6(source.Address.V6, destination.Address.V6, IpProtocol.Udp, length, mayFragment: true);
    }

    /// <summary>Sends a UDP datagram of either family, copying <paramref name="payload"/> into place.</summary>
    public bool SendUdp(IpEndpoint source, IpEndpoint destination, ReadOnlySpan<byte> payload)
    {
        if (UdpDatagram.HeaderLength + payload.Length > 65535 - Ipv4Packet.MinHeaderLength)
        {
            return false;
        }
        payload.CopyTo(UdpPayload(source.Address));
        return FinishUdp(source, destination, payload.Length);
    }

    /// <summary>
    /// Sends a UDP datagram to a guest. <paramref name="destinationMac"/> is for replies to a
    /// guest that has no address yet (DHCP).
    /// </summary>
    public bool SendUdpV4(
        IpEndpoint source, IpEndpoint destination, ReadOnlySpan<byte> payload,
        MacAddress? destinationMac = null, bool dontFragment = false)
    {
        int length = UdpDatagram.HeaderLength + payload.Length;
        if (length > 65535 - Ipv4Packet.MinHeaderLength)
        {
            return false;
        }
        Span<byte> segment = Ipv4Payload[..length];
        payload.CopyTo(segment[UdpDatagram.HeaderLength..]);
        return FinishUdpV4(source, destination, payload.Length, destinationMac, dontFragment);
    }

    /// <summary>
    /// Sends a UDP datagram whose payload is already written after the UDP header in
    /// <see cref="Ipv4Payload"/> (zero-copy for NAT replies).
    /// </summary>
    public bool FinishUdpV4(IpEndpoint source, IpEndpoint destination, int payloadLength, MacAddress? destinationMac = null, bool dontFragment = false)
    {
        int length = UdpDatagram.HeaderLength + payloadLength;
        Span<byte> segment = Ipv4Payload[..length];
        UdpDatagram.WriteHeader(segment, source.Port, destination.Port, payloadLength);
        var udp = new UdpDatagram(segment);
        udp.FillChecksum(InternetChecksum.PseudoHeaderV4(source.Address.V4, destination.Address.V4, IpProtocol.Udp, length));
        return SendIpv4(source.Address.V4, destination.Address.V4, IpProtocol.Udp, length, destinationMac, dontFragment);
    }
}
