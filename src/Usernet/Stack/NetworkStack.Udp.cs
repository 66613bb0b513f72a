using Usernet.Link;
using Usernet.Wire;

namespace Usernet.Stack;

internal sealed partial class NetworkStack
{
    private readonly Dictionary<ushort, IUdpService> _udpServices = new();

    /// <summary>Runs <paramref name="service"/> on UDP <paramref name="port"/> of the gateway.</summary>
    public void AddUdpService(ushort port, IUdpService service) => _udpServices[port] = service;

    private void ReceiveUdpV4(Ipv4Packet ip, MacAddress sourceMac, FrameLink from, Instant now, bool broadcast)
    {
        if (!UdpDatagram.TryParse(ip.Payload, out var udp))
        {
            Counters.Drop(DropReason.UdpMalformed);
            return;
        }
        if (!udp.VerifyChecksum(ip.PseudoHeaderSum(udp.Length), isIpv6: false))
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
        UdpNat.Receive(new IpPacketView(ip), now);
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

    /// <summary>Where a UDP payload starts in <see cref="Ipv4Payload"/>.</summary>
    public Span<byte> UdpV4Payload => Ipv4Payload[UdpDatagram.HeaderLength..];
}
