using System.Buffers.Binary;
using Usernet.Link;
using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Stack;

internal sealed partial class NetworkStack
{
    /// <summary>How often every link hears an unsolicited router advertisement (RFC 4861 §6.2.1 allows 4 to 1800 s).</summary>
    private static readonly TimeSpan AdvertisementInterval = TimeSpan.FromSeconds(200);

    private const ushort RouterLifetimeSeconds = 1800;
    private const uint PrefixValidSeconds = 86400;
    private const uint PrefixPreferredSeconds = 14400;
    private const uint DnsLifetimeSeconds = 3600;

    private readonly LoopTimer _advertisementTimer;

    /// <summary>The unsolicited router advertisement every link hears now and then (RFC 4861 §6.2.4).</summary>
    private void AdvertiseOnEveryLink(Instant now)
    {
        foreach (var link in _transmitter.Links)
        {
            SendRouterAdvertisement(AllNodes, link);
        }
        _advertisementTimer.Schedule(now + AdvertisementInterval);
    }

    /// <summary>Neighbor Solicitation, Advertisement and Router Solicitation from a guest (RFC 4861 §7.1.1 validation).</summary>
    private bool ReceiveNdp(Ipv6Packet ip, Icmpv6Message message, FrameLink from)
    {
        byte type = message.Type;
        if (ip.HopLimit != 255 || message.Code != 0 || !NdpMessage.TryReadOptions(message.Buffer, type, out var linkLayer))
        {
            Counters.Drop(DropReason.NdpMalformed);
            return true;
        }
        var source = ip.Source;
        switch (type)
        {
            case Icmpv6Type.NeighborSolicitation:
            {
                var target = NdpMessage.Target(message.Buffer);
                if (target.IsMulticast || (source.IsUnspecified && linkLayer is not null))
                {
                    Counters.Drop(DropReason.NdpMalformed);
                    return true;
                }
                if (linkLayer is { } mac && !source.IsUnspecified)
                {
                    Neighbours.Learn(source, mac, from);
                }
                if (!Options.IsOwnAddress(target))
                {
                    Counters.Drop(DropReason.NotForUs);
                    return true;
                }
                SendNeighborAdvertisement(target, source.IsUnspecified ? AllNodes : source, solicited: !source.IsUnspecified, from);
                return true;
            }
            case Icmpv6Type.NeighborAdvertisement:
            {
                var target = NdpMessage.Target(message.Buffer);
                if (linkLayer is { } mac && !target.IsMulticast && (target.IsLinkLocal || Options.Ipv6Prefix.Contains(target)))
                {
                    Neighbours.Learn(target, mac, from);
                }
                return true;
            }
            case Icmpv6Type.RouterSolicitation:
                if (source.IsUnspecified && linkLayer is not null)
                {
                    // RFC 4861 §6.1.1: from the unspecified address, no source link-layer address.
                    Counters.Drop(DropReason.NdpMalformed);
                    return true;
                }
                if (linkLayer is { } sender)
                {
                    Neighbours.Learn(source, sender, from);
                }
                SendRouterAdvertisement(AllNodes, from);
                return true;
            default:
                return false;
        }
    }

    private void SendNeighborAdvertisement(Ipv6Address target, Ipv6Address destination, bool solicited, FrameLink link)
    {
        const int Length = 24 + 8;
        Span<byte> message = Ipv6Payload[..Length];
        message.Clear();
        message[0] = Icmpv6Type.NeighborAdvertisement;
        bool router = target != Options.HostV6;
        // Router, Solicited, Override (RFC 4861 §4.4).
        message[4] = (byte)((router ? 0x80 : 0) | (solicited ? 0x40 : 0) | 0x20);
        target.Write(message[8..]);
        NdpMessage.WriteLinkLayerOption(message[24..], NdpOption.TargetLinkLayerAddress, Mac);
        var icmp = new Icmpv6Message(message);
        icmp.FillChecksum(InternetChecksum.PseudoHeaderV6(target, destination, IpProtocol.Icmpv6, Length));
        SendIpv6(target, destination, IpProtocol.Icmpv6, Length, hopLimit: 255, link: link);
    }

    /// <summary>
    /// The gateway as router (RFC 4861 §4.2): the prefix for SLAAC, the link's MTU, and DNS by
    /// RDNSS/DNSSL (RFC 8106). M and O are set, so DHCPv6 clients ask for addresses and DNS too.
    /// </summary>
    private void SendRouterAdvertisement(Ipv6Address destination, FrameLink link)
    {
        Span<byte> message = Ipv6Payload;
        message[..16].Clear();
        message[0] = Icmpv6Type.RouterAdvertisement;
        message[4] = 64;
        message[5] = 0xC0;
        BinaryPrimitives.WriteUInt16BigEndian(message[6..], RouterLifetimeSeconds);
        int length = 16;
        length += NdpMessage.WriteLinkLayerOption(message[length..], NdpOption.SourceLinkLayerAddress, Mac);
        length += NdpMessage.WriteMtuOption(message[length..], Options.MtuFor(link));
        length += NdpMessage.WritePrefixOption(message[length..], Options.Ipv6Prefix.Network, Options.Ipv6Prefix.PrefixLength,
            onLink: true, autonomous: Options.Ipv6Prefix.PrefixLength == 64, PrefixValidSeconds, PrefixPreferredSeconds);
        length += NdpMessage.WriteRdnssOption(message[length..], [Options.GatewayV6], DnsLifetimeSeconds);
        if (Options.DnsSearchList.Length > 0)
        {
            length += NdpMessage.WriteDnsslOption(message[length..], Options.DnsSearchList, DnsLifetimeSeconds);
        }
        var icmp = new Icmpv6Message(message[..length]);
        var source = Options.GatewayLinkLocal;
        icmp.FillChecksum(InternetChecksum.PseudoHeaderV6(source, destination, IpProtocol.Icmpv6, length));
        SendIpv6(source, destination, IpProtocol.Icmpv6, length, hopLimit: 255, link: link);
    }

    /// <summary>Asks the guests who has <paramref name="target"/> (multicast to its solicited-node group).</summary>
    private void SendNeighborSolicitation(Ipv6Address target)
    {
        const int Length = 24 + 8;
        Span<byte> frame = _solicitTx;
        var destination = target.SolicitedNode;
        var source = Options.GatewayLinkLocal;
        EthernetFrame.WriteHeader(frame, MacAddress.ForIpv6Multicast(destination), Mac, EtherType.Ipv6);
        Span<byte> packet = frame[EthernetFrame.HeaderLength..];
        Ipv6Packet.WriteHeader(packet, source, destination, IpProtocol.Icmpv6, Length, 255);
        Span<byte> message = packet[Ipv6Packet.HeaderLength..(Ipv6Packet.HeaderLength + Length)];
        message.Clear();
        message[0] = Icmpv6Type.NeighborSolicitation;
        target.Write(message[8..]);
        NdpMessage.WriteLinkLayerOption(message[24..], NdpOption.SourceLinkLayerAddress, Mac);
        new Icmpv6Message(message).FillChecksum(InternetChecksum.PseudoHeaderV6(source, destination, IpProtocol.Icmpv6, Length));
        Counters.FramesOut++;
        _transmitter.Transmit(frame[..(EthernetFrame.HeaderLength + Ipv6Packet.HeaderLength + Length)]);
    }

    private readonly byte[] _solicitTx = new byte[EthernetFrame.HeaderLength + Ipv6Packet.HeaderLength + 32];
}
