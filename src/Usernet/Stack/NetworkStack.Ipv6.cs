using Usernet.Link;
using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Stack;

internal sealed partial class NetworkStack
{
    /// <summary>Where the IPv6 payload starts in the transmit buffer.</summary>
    public const int Ipv6PayloadOffset = EthernetFrame.HeaderLength + Ipv6Packet.HeaderLength;

    /// <summary>The smallest MTU IPv6 allows (RFC 8200 §5): what an ICMPv6 error must fit.</summary>
    private const int MinimumIpv6Mtu = 1280;

    private static readonly Ipv6Address AllNodes = Ipv6Address.Parse("ff02::1");
    private static readonly Ipv6Address AllRouters = Ipv6Address.Parse("ff02::2");

    private Ipv6Reassembler? _reassembler6;
    private readonly LoopTimer _reassembly6Timer;
    private uint _nextFragmentId = (uint)Random.Shared.Next();

    /// <summary>The transmit buffer's IPv6 payload area.</summary>
    public Span<byte> Ipv6Payload => _tx.AsSpan(Ipv6PayloadOffset);

    private Ipv6Reassembler Reassembler6 => _reassembler6 ??= new Ipv6Reassembler(Options.Fragments);

    private void ExpireReassembly6(Instant now)
    {
        Reassembler6.Expire(now);
        _reassembly6Timer.Schedule(Reassembler6.NextExpiry);
    }

    public int PendingReassemblies6 => _reassembler6?.PendingCount ?? 0;

    private void ReceiveIpv6(EthernetFrame ethernet, FrameLink from, Instant now)
    {
        if (!Options.Ipv6Enabled)
        {
            Counters.Drop(DropReason.Ipv6Disabled);
            return;
        }
        if (Ipv6Packet.TryParse(ethernet.Payload, out var ip) != Ipv6ParseError.None)
        {
            Counters.Drop(DropReason.Ipv6Malformed);
            return;
        }
        Ipv6Address source = ip.Source;
        if (!source.IsUnspecified)
        {
            // A guest speaks from its link-local address or the prefix, never as the stack; or
            // from a subnet routed into it.
            if (source.IsMulticast || Options.IsOwnAddress(source))
            {
                Counters.Drop(DropReason.Ipv6BadSource);
                return;
            }
            if (!(source.IsLinkLocal || Options.Ipv6Prefix.Contains(source)))
            {
                if (!ComesThroughRoute(source, ethernet.Source, from))
                {
                    Counters.Drop(DropReason.Ipv6BadSource);
                    return;
                }
            }
            else if (ethernet.Source.IsUnicast)
            {
                Neighbours.Learn(source, ethernet.Source, from);
            }
        }
        if (!ip.TryFindUpperLayer(out byte protocol, out int offset, out var fragment))
        {
            Counters.Drop(DropReason.Ipv6Malformed);
            return;
        }
        if (fragment is { } header)
        {
            var outcome = Reassembler6.Accept(ip, header, now, out var whole);
            _reassembly6Timer.ScheduleNoLaterThan(Reassembler6.NextExpiry);
            if (outcome == ReassemblyOutcome.Dropped)
            {
                Counters.Drop(DropReason.Ipv6FragmentDropped);
            }
            if (outcome != ReassemblyOutcome.Complete)
            {
                return;
            }
            ip = new Ipv6Packet(whole);
            protocol = ip.NextHeader;
            offset = Ipv6Packet.HeaderLength;
            FrameChecksumTrusted = false;
        }
        DeliverIpv6(ip, protocol, offset, ethernet.Source, from, now);
    }

    private void DeliverIpv6(Ipv6Packet ip, byte protocol, int offset, MacAddress sourceMac, FrameLink from, Instant now)
    {
        Ipv6Address destination = ip.Destination;
        bool toStack = Options.IsOwnAddress(destination);
        bool multicast = destination.IsMulticast;
        var payload = ip.Buffer[offset..];
        if (!toStack && !multicast)
        {
            if (destination.IsLinkLocal || Options.Ipv6Prefix.Contains(destination) || destination.IsUnspecified)
            {
                Counters.Drop(DropReason.NotForUs);
                return;
            }
            if (ip.HopLimit <= 1)
            {
                Counters.Drop(DropReason.TtlExpired);
                SendIcmpv6Error(Icmpv6Type.TimeExceeded, Icmpv6Code.HopLimitExceeded, 0, ip.Buffer, Options.GatewayV6, now);
                return;
            }
        }
        var view = new IpPacketView(ip.Source, destination, protocol, ip.HopLimit, payload, ip.Buffer) { LinkId = from.Id };
        switch (protocol)
        {
            case IpProtocol.Icmpv6:
                ReceiveIcmpv6(ip, payload, toStack, multicast, from, now);
                break;
            case IpProtocol.Udp:
                ReceiveUdpV6(ip, payload, sourceMac, from, toStack, multicast, now);
                break;
            case IpProtocol.Tcp when !multicast:
                if (Tcp is null)
                {
                    Counters.Drop(DropReason.Ipv6NoRoute);
                    return;
                }
                Tcp.Receive(view, now);
                break;
            default:
                Counters.Drop(DropReason.Ipv6UnknownProtocol);
                break;
        }
    }

    /// <summary>
    /// Sends the IPv6 packet whose payload is already in <see cref="Ipv6Payload"/>. Multicast
    /// goes to its 33:33 MAC (RFC 2464 §7); unicast to the neighbour's MAC, or it is dropped and
    /// the neighbour solicited. As the packet's source we may fragment it (RFC 8200 §4.5) when it
    /// exceeds the guest's MTU; <paramref name="link"/> sends it on one link only.
    /// </summary>
    public bool SendIpv6(
        Ipv6Address source, Ipv6Address destination, byte nextHeader, int payloadLength,
        byte hopLimit = 64, FrameLink? link = null, bool mayFragment = false, int? partialChecksumAt = null)
    {
        MacAddress mac;
        if (destination.IsMulticast)
        {
            mac = MacAddress.ForIpv6Multicast(destination);
        }
        else if (Neighbours.TryGet(NextHop(destination), out var neighbour))
        {
            mac = neighbour.Mac;
            link ??= neighbour.Link;
        }
        else
        {
            // Held and sent when the neighbour advertisement names the MAC.
            mac = MacAddress.Zero;
        }
        int mtu = link is not null ? Options.MtuFor(link) : MtuTowards(destination);
        int packetLength = Ipv6Packet.HeaderLength + payloadLength;
        bool fragmented = packetLength > mtu;
        var checksum = PartialOrComplete(Ipv6PayloadOffset, payloadLength, partialChecksumAt,
            completeNow: mac == MacAddress.Zero || (fragmented && mayFragment));
        if (fragmented)
        {
            if (!mayFragment)
            {
                return false;
            }
            SendIpv6Fragments(mac, source, destination, nextHeader, payloadLength, hopLimit, mtu, link);
            return true;
        }
        Span<byte> frame = _tx;
        EthernetFrame.WriteHeader(frame, mac, Mac, EtherType.Ipv6);
        Ipv6Packet.WriteHeader(frame[EthernetFrame.HeaderLength..], source, destination, nextHeader, payloadLength, hopLimit);
        if (mac == MacAddress.Zero)
        {
            Counters.Drop(DropReason.NeighbourUnknown);
            var hop = NextHop(destination).V6;
            PendingResolution.Hold(hop, frame[..(EthernetFrame.HeaderLength + packetLength)]);
            SendNeighborSolicitation(hop);
            return false;
        }
        if (link is not null)
        {
            Counters.FramesOut++;
            _transmitter.TransmitTo(link, frame[..(EthernetFrame.HeaderLength + packetLength)], checksum);
        }
        else
        {
            Transmit(EthernetFrame.HeaderLength + packetLength, checksum);
        }
        return true;
    }

    private void SendIpv6Fragments(
        MacAddress mac, Ipv6Address source, Ipv6Address destination, byte nextHeader, int payloadLength, byte hopLimit, int mtu, FrameLink? link)
    {
        const int FragmentHeader = 8;
        int chunk = (mtu - Ipv6Packet.HeaderLength - FragmentHeader) & ~7;
        uint identification = _nextFragmentId++;
        for (int offset = 0; offset < payloadLength; offset += chunk)
        {
            int length = Math.Min(chunk, payloadLength - offset);
            Span<byte> frame = _fragmentTx;
            EthernetFrame.WriteHeader(frame, mac, Mac, EtherType.Ipv6);
            Span<byte> packet = frame[EthernetFrame.HeaderLength..];
            Ipv6Packet.WriteHeader(packet, source, destination, IpProtocol.Ipv6Fragment, FragmentHeader + length, hopLimit);
            Ipv6Packet.WriteFragmentHeader(packet[Ipv6Packet.HeaderLength..], nextHeader, offset, offset + length < payloadLength, identification);
            _tx.AsSpan(Ipv6PayloadOffset + offset, length).CopyTo(packet[(Ipv6Packet.HeaderLength + FragmentHeader)..]);
            int frameLength = EthernetFrame.HeaderLength + Ipv6Packet.HeaderLength + FragmentHeader + length;
            Counters.FramesOut++;
            Counters.FragmentsSentToGuest++;
            if (link is not null)
            {
                _transmitter.TransmitTo(link, frame[..frameLength]);
            }
            else
            {
                _transmitter.Transmit(frame[..frameLength]);
            }
        }
    }

    /// <summary>The transmit buffer's payload area for the family of <paramref name="family"/>.</summary>
    public Span<byte> IpPayload(IpAddress family) => family.IsV4 ? Ipv4Payload : Ipv6Payload;
}
