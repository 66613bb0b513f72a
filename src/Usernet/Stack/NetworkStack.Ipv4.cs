using Usernet.Link;
using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Stack;

internal sealed partial class NetworkStack
{
    /// <summary>Where the IPv4 payload starts in the transmit buffer.</summary>
    public const int Ipv4PayloadOffset = EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength;

    private readonly Ipv4Reassembler _reassembler;
    private readonly byte[] _fragmentTx = GC.AllocateArray<byte>(EthernetFrame.HeaderLength + 65535, pinned: true);
    private readonly byte[] _arpTx = new byte[EthernetFrame.HeaderLength + ArpPacket.Length];
    private readonly LoopTimer _reassemblyTimer;
    private ushort _nextIdentification = (ushort)Random.Shared.Next();

    /// <summary>Guest TCP and UDP to anywhere but the gateway (null: refused); given by the <see cref="Builder"/>.</summary>
    public IIpTransport? Tcp { get; private set; }

    public IIpTransport? UdpNat { get; private set; }

    /// <summary>Guest ICMP echo to anywhere but the stack's own addresses.</summary>
    public IIpTransport? IcmpNat { get; private set; }

    /// <summary>The transmit buffer's IPv4 payload area, for a packet about to go out.</summary>
    public Span<byte> Ipv4Payload => _tx.AsSpan(Ipv4PayloadOffset);

    private void ExpireReassembly(Instant now)
    {
        _reassembler.Expire(now);
        _reassemblyTimer.Schedule(_reassembler.NextExpiry);
    }

    public Ipv4Reassembler Reassembler => _reassembler;

    private void ReceiveIpv4(EthernetFrame ethernet, FrameLink from, Instant now)
    {
        var error = Ipv4Packet.TryParse(ethernet.Payload, out var ip);
        if (error != Ipv4ParseError.None)
        {
            Counters.Drop(error switch
            {
                Ipv4ParseError.Truncated => DropReason.Ipv4Truncated,
                Ipv4ParseError.BadVersion => DropReason.Ipv4BadVersion,
                Ipv4ParseError.BadHeaderLength => DropReason.Ipv4BadHeaderLength,
                Ipv4ParseError.BadTotalLength => DropReason.Ipv4BadTotalLength,
                _ => DropReason.Ipv4BadChecksum,
            });
            return;
        }
        Ipv4Address source = ip.Source;
        if (!source.IsUnspecified)
        {
            // A guest speaks only from its subnet, and never as the gateway or host; or from a
            // subnet routed into it.
            if (!Options.InSubnet(source))
            {
                if (!ComesThroughRoute(source, ethernet.Source, from))
                {
                    Counters.Drop(DropReason.Ipv4BadSource);
                    return;
                }
            }
            else if (IsOwnAddress(source) || source == Options.Network || source == Options.SubnetBroadcast)
            {
                Counters.Drop(DropReason.Ipv4BadSource);
                return;
            }
            else if (ethernet.Source.IsUnicast)
            {
                Neighbours.Learn(source, ethernet.Source, from);
            }
        }
        if (ip.IsFragment)
        {
            var outcome = _reassembler.Accept(ip, now, out var whole);
            _reassemblyTimer.ScheduleNoLaterThan(_reassembler.NextExpiry);
            if (outcome == ReassemblyOutcome.Dropped)
            {
                Counters.Drop(DropReason.Ipv4FragmentDropped);
            }
            if (outcome != ReassemblyOutcome.Complete)
            {
                return;
            }
            ip = new Ipv4Packet(whole);
            FrameChecksumTrusted = false;
        }
        DeliverIpv4(ip, ethernet.Source, from, now);
    }

    private void DeliverIpv4(Ipv4Packet ip, MacAddress sourceMac, FrameLink from, Instant now)
    {
        Ipv4Address destination = ip.Destination;
        bool toStack = IsOwnAddress(destination);
        if (!toStack)
        {
            if (destination.IsBroadcast || destination == Options.SubnetBroadcast)
            {
                if (ip.Protocol == IpProtocol.Udp)
                {
                    ReceiveUdpV4(ip, sourceMac, from, now, broadcast: true);
                }
                else
                {
                    Counters.Drop(DropReason.NotForUs);
                }
                return;
            }
            if (destination.IsMulticast || Options.InSubnet(destination) || destination.IsUnspecified)
            {
                Counters.Drop(DropReason.NotForUs);
                return;
            }
            if (ip.TimeToLive <= 1)
            {
                // We are a router: the hop ends here (RFC 1812 §5.3.1). This is what makes
                // traceroute show the gateway as the first hop.
                Counters.Drop(DropReason.TtlExpired);
                SendIcmpV4Error(IcmpV4Type.TimeExceeded, IcmpV4Code.TtlExceeded, 0, ip, Options.Gateway, now);
                return;
            }
        }
        switch (ip.Protocol)
        {
            case IpProtocol.Icmp:
                ReceiveIcmpV4(ip, toStack, from, now);
                break;
            case IpProtocol.Udp:
                ReceiveUdpV4(ip, sourceMac, from, now, broadcast: false);
                break;
            case IpProtocol.Tcp:
                if (Tcp is null)
                {
                    Counters.Drop(DropReason.Ipv4NoRoute);
                    SendIcmpV4Error(IcmpV4Type.DestinationUnreachable, IcmpV4Code.ProtocolUnreachable, 0, ip, destination, now);
                }
                else
                {
                    Tcp.Receive(new IpPacketView(ip) { LinkId = from.Id }, now);
                }
                break;
            default:
                Counters.Drop(DropReason.Ipv4UnknownProtocol);
                if (toStack)
                {
                    SendIcmpV4Error(IcmpV4Type.DestinationUnreachable, IcmpV4Code.ProtocolUnreachable, 0, ip, destination, now);
                }
                break;
        }
    }

    /// <summary>
    /// Sends the IPv4 packet whose payload (<paramref name="payloadLength"/> bytes) is already
    /// in <see cref="Ipv4Payload"/>. The destination MAC comes from the neighbour table unless
    /// given. A packet larger than the guest's MTU is fragmented, unless
    /// <paramref name="dontFragment"/> (then it is dropped: the caller sized it wrong). With
    /// <paramref name="partialChecksumAt"/>, the transport checksum at that offset in the
    /// payload holds only the pseudo-header's sum (see <see cref="PartialChecksum"/>).
    /// </summary>
    public bool SendIpv4(
        Ipv4Address source, Ipv4Address destination, byte protocol, int payloadLength,
        MacAddress? destinationMac = null, bool dontFragment = true, byte timeToLive = 64, int? partialChecksumAt = null)
    {
        MacAddress mac;
        if (destinationMac is { } explicitMac)
        {
            mac = explicitMac;
        }
        else if (destination.IsBroadcast || destination == Options.SubnetBroadcast)
        {
            mac = MacAddress.Broadcast;
        }
        else if (Neighbours.TryGet(NextHop(destination), out var neighbour))
        {
            mac = neighbour.Mac;
        }
        else
        {
            // Held (as the kernel holds it) and sent when the ARP reply names the MAC.
            mac = MacAddress.Zero;
        }
        // The same MTU the guest's TCP segments were sized for (see MtuTowards).
        int mtu = MtuTowards(destination);
        ushort identification = _nextIdentification++;
        int packetLength = Ipv4Packet.MinHeaderLength + payloadLength;
        bool fragmented = packetLength > mtu;
        var checksum = PartialOrComplete(Ipv4PayloadOffset, payloadLength, partialChecksumAt,
            completeNow: mac == MacAddress.Zero || (fragmented && !dontFragment));
        if (fragmented)
        {
            if (dontFragment)
            {
                return false;
            }
            SendIpv4Fragments(mac, source, destination, protocol, payloadLength, identification, timeToLive, mtu);
            return true;
        }
        Span<byte> frame = _tx;
        EthernetFrame.WriteHeader(frame, mac, Mac, EtherType.Ipv4);
        Ipv4Packet.WriteHeader(frame[EthernetFrame.HeaderLength..], source, destination, protocol, payloadLength,
            identification, timeToLive, dontFragment);
        if (mac == MacAddress.Zero)
        {
            Counters.Drop(DropReason.NeighbourUnknown);
            var hop = NextHop(destination).V4;
            PendingResolution.Hold(hop, frame[..(EthernetFrame.HeaderLength + packetLength)]);
            SendArpRequest(hop);
            return false;
        }
        Transmit(EthernetFrame.HeaderLength + packetLength, checksum);
        return true;
    }

    /// <summary>Splits the payload in the transmit buffer into fragments of at most <paramref name="mtu"/> (RFC 791 §3.2).</summary>
    private void SendIpv4Fragments(
        MacAddress mac, Ipv4Address source, Ipv4Address destination, byte protocol, int payloadLength,
        ushort identification, byte timeToLive, int mtu)
    {
        int chunk = (mtu - Ipv4Packet.MinHeaderLength) & ~7;
        for (int offset = 0; offset < payloadLength; offset += chunk)
        {
            int length = Math.Min(chunk, payloadLength - offset);
            Span<byte> frame = _fragmentTx;
            EthernetFrame.WriteHeader(frame, mac, Mac, EtherType.Ipv4);
            Span<byte> packet = frame[EthernetFrame.HeaderLength..];
            _tx.AsSpan(Ipv4PayloadOffset + offset, length).CopyTo(packet[Ipv4Packet.MinHeaderLength..]);
            Ipv4Packet.WriteHeader(packet, source, destination, protocol, length, identification, timeToLive, dontFragment: false);
            var view = new Ipv4Packet(packet)
            {
                FragmentOffset = offset,
                MoreFragments = offset + length < payloadLength,
            };
            view.FillChecksum();
            Counters.FramesOut++;
            Counters.FragmentsSentToGuest++;
            _transmitter.Transmit(frame[..(EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength + length)]);
        }
    }
}
