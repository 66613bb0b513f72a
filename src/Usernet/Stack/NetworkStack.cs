using System.Text.Json;
using Usernet.Link;
using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>
/// The virtual gateway and host: demultiplexes guest frames by EtherType and protocol,
/// answers ARP and ping for its own addresses, hands datagrams to services and flows to the
/// transports, and builds every frame it sends in one reused buffer. It runs only on the loop
/// thread and never blocks. A <see cref="Builder"/> makes it with its transports and services.
/// </summary>
internal sealed partial class NetworkStack : ISwitchPort
{
    /// <summary>Ethernet header, a full IPv4 or IPv6 packet, and room to spare.</summary>
    private const int TxCapacity = EthernetFrame.HeaderLength + 65535 + 64;

    private readonly IFrameTransmitter _transmitter;
    private readonly byte[] _tx = GC.AllocateArray<byte>(TxCapacity, pinned: true);

    /// <summary>
    /// Whether the link vouched for the transport checksum of the frame being received: set
    /// per frame in <see cref="Receive"/>, and cleared for a packet reassembled from
    /// fragments, which no single frame's word covers.
    /// </summary>
    public bool FrameChecksumTrusted { get; private set; }

    /// <summary>Reassembly expiry and router advertisements run on <paramref name="timers"/>, the loop's.</summary>
    private NetworkStack(StackOptions options, IFrameTransmitter transmitter, TimerQueue timers)
    {
        Options = options;
        _transmitter = transmitter;
        _reassembler = new Ipv4Reassembler(options.Fragments);
        _reassemblyTimer = timers.Create(ExpireReassembly);
        _reassembly6Timer = timers.Create(ExpireReassembly6);
        _advertisementTimer = timers.Create(AdvertiseOnEveryLink);
        _icmpErrorBudget = new TokenBucket(IcmpErrorsPerSecond, IcmpErrorBurst);
        Neighbours.Learned += SendHeldFrames;
        foreach (var route in options.GuestRoutes)
        {
            Routes.Add(route);
        }
        if (options.Ipv6Enabled)
        {
            _advertisementTimer.Schedule(Instant.Zero);
        }
    }

    /// <summary>Frames waiting for ARP or NDP to find their destination.</summary>
    public PendingResolution PendingResolution { get; } = new();

    /// <summary>Frames that waited for an address's MAC go out now that it is known.</summary>
    private void SendHeldFrames(IpAddress address, Neighbour neighbour)
    {
        if (PendingResolution.Release(address) is not { } frames)
        {
            return;
        }
        foreach (byte[] frame in frames)
        {
            neighbour.Mac.Write(frame);
            Counters.FramesOut++;
            _transmitter.TransmitTo(neighbour.Link, frame);
        }
    }

    public StackOptions Options { get; }

    public StackCounters Counters { get; } = new();

    /// <summary>The egress policy every new flow that would leave through a host socket passes (see <see cref="EgressRule"/>).</summary>
    public global::Usernet.Stack.Egress.EgressGate Egress { get; } = new();

    public NeighbourTable Neighbours { get; } = new();

    /// <summary>The subnets behind guests (network.guestRoutes; Docker's networks).</summary>
    public GuestRouteTable Routes { get; } = new();

    public MacAddress Mac => Options.Mac;

    /// <summary>
    /// Raised for each address that was behind a guest link when it closed, so that the flows
    /// and leases of that guest end now rather than when their timers find them idle: its UDP
    /// and ping sockets can only collect replies for nobody, and its DHCP addresses can go to
    /// the next guest. Its TCP connections are left to finish, as
    /// the host peer may still be taking the last bytes the guest sent before it left (a dead
    /// one is found by keepalive).
    /// </summary>
    public event Action<IpAddress>? GuestGone;

    /// <summary>
    /// Called once for each TCP connection, UDP flow and echo flow that ends, with what it
    /// carried and why it ended (the flow log). Null, the default, costs one check per flow end.
    /// </summary>
    public Action<FlowRecord, FlowEnd>? FlowEnded { get; set; }

    /// <summary>
    /// Called once for each TCP connection, UDP flow and echo flow as it opens, its verdict set
    /// and nothing counted yet beyond its first packet (the flow log's start lines, log.flowStarts).
    /// Null, the default, costs one check per new flow.
    /// </summary>
    public Action<FlowRecord>? FlowStarted { get; set; }

    public void Receive(Span<byte> frame, FrameLink from, Instant now, bool checksumTrusted = false)
    {
        Counters.FramesIn++;
        FrameChecksumTrusted = checksumTrusted;
        if (!EthernetFrame.TryParse(frame, out var ethernet))
        {
            Counters.Drop(DropReason.EthernetTruncated);
            return;
        }
        switch (ethernet.EtherType)
        {
            case EtherType.Arp when Options.Ipv4Enabled:
                ReceiveArp(ethernet, from);
                break;
            case EtherType.Ipv4:
                if (!Options.Ipv4Enabled)
                {
                    Counters.Drop(DropReason.Ipv4Disabled);
                    break;
                }
                ReceiveIpv4(ethernet, from, now);
                break;
            case EtherType.Ipv6:
                ReceiveIpv6(ethernet, from, now);
                break;
            case EtherType.Vlan:
                Counters.Drop(DropReason.VlanTagged);
                break;
            default:
                Counters.Drop(DropReason.UnknownEtherType);
                break;
        }
    }

    public void OnLinkClosed(FrameLink link)
    {
        foreach (var address in Neighbours.Forget(link))
        {
            GuestGone?.Invoke(address);
        }
    }

    /// <summary>
    /// Names what <paramref name="frame"/> goes to, from its outer headers only: a UDP service by
    /// its type ("Dhcpv6Server"), else the protocol ("tcp", "udp", "icmp", "icmpv6", "arp",
    /// "ipv4", "ipv6", "ethernet"). A fault is counted under it; the set is small and fixed.
    /// </summary>
    public string HandlerOf(Span<byte> frame)
    {
        if (!EthernetFrame.TryParse(frame, out var ethernet))
        {
            return "ethernet";
        }
        byte protocol;
        Span<byte> payload;
        switch (ethernet.EtherType)
        {
            case EtherType.Arp:
                return "arp";
            case EtherType.Ipv4 when Ipv4Packet.TryParse(ethernet.Payload, out var ip) == Ipv4ParseError.None:
                if (ip.IsFragment)
                {
                    return "ipv4 fragment";
                }
                protocol = ip.Protocol;
                payload = ip.Payload;
                break;
            case EtherType.Ipv4:
                return "ipv4";
            case EtherType.Ipv6 when Ipv6Packet.TryParse(ethernet.Payload, out var ip6) == Ipv6ParseError.None:
                protocol = ip6.NextHeader;
                payload = ip6.Payload;
                break;
            case EtherType.Ipv6:
                return "ipv6";
            default:
                return "ethernet";
        }
        return protocol switch
        {
            IpProtocol.Tcp => "tcp",
            IpProtocol.Udp when UdpDatagram.TryParse(payload, out var udp) && _udpServices.TryGetValue(udp.DestinationPort, out var service) =>
                service.GetType().Name,
            IpProtocol.Udp => "udp",
            IpProtocol.Icmp => "icmp",
            IpProtocol.Icmpv6 => "icmpv6",
            _ => ethernet.EtherType == EtherType.Ipv4 ? "ipv4" : "ipv6",
        };
    }

    public bool IsOwnAddress(IpAddress address) => Options.IsOwnAddress(address);

    public bool IsLanAddress(IpAddress address) => Options.IsLanAddress(address);

    /// <summary>
    /// The link a guest is behind, for a flow the host opens towards it (a published port): where
    /// it last spoke from, else where its address is bound, else the only link; null when it
    /// cannot be told.
    /// </summary>
    public FrameLink? LinkOf(IpAddress guest)
    {
        guest = NextHop(guest);
        if (Neighbours.TryGet(guest, out var neighbour))
        {
            return neighbour.Link;
        }
        if (_transmitter.LinkOf(guest) is { } bound)
        {
            return bound;
        }
        var links = _transmitter.Links;
        return links.Count == 1 ? links[0] : null;
    }

    /// <summary>
    /// Where a packet for <paramref name="destination"/> goes on the LAN: to the guest a route
    /// names for it (network.guestRoutes), as to a router, unless it is itself a neighbour.
    /// </summary>
    public IpAddress NextHop(IpAddress destination) =>
        Routes.Routes.Count != 0 && !Neighbours.TryGet(destination, out _) && Routes.TryFind(destination, out var via) ? via : destination;

    /// <summary>
    /// Whether a packet from <paramref name="source"/>, outside the guests' subnet, comes from a
    /// subnet routed into a guest, through that guest: from its MAC, on its link. Such a source
    /// is not learned as a neighbour; its packets go back through the guest.
    /// </summary>
    private bool ComesThroughRoute(IpAddress source, MacAddress mac, FrameLink from) =>
        Routes.TryFind(source, out var via) && Neighbours.TryGet(via, out var guest) && guest.Mac == mac && guest.Link == from;

    /// <summary>The counters, and how full the tables are, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        Counters.WriteJson(writer);
        writer.WriteNumber("neighbours", Neighbours.Count);
        writer.WriteNumber("neighboursRefused", Neighbours.Refused);
        writer.WriteNumber("pendingReassemblies", Reassembler.PendingCount);
        writer.WriteNumber("pendingReassemblies6", PendingReassemblies6);
        writer.WriteNumber("awaitingResolution", PendingResolution.DestinationCount);
        writer.WriteNumber("awaitingResolutionDropped", PendingResolution.Dropped);
    }

    /// <summary>
    /// The MTU towards a guest: its link's, or, before it has spoken, that of the only link
    /// (the common case of one guest), else the VM default.
    /// </summary>
    public int MtuTowards(IpAddress guest)
    {
        if (Neighbours.TryGet(guest, out var neighbour) || Neighbours.TryGet(NextHop(guest), out neighbour))
        {
            return Options.MtuFor(neighbour.Link);
        }
        var links = _transmitter.Links;
        return links.Count == 1 ? Options.MtuFor(links[0]) : Options.Mtu ?? EthernetFrame.StandardMtu;
    }

    /// <summary>Sends a frame already built in <see cref="_tx"/>.</summary>
    private void Transmit(int length, PartialChecksum checksum = default)
    {
        Counters.FramesOut++;
        _transmitter.Transmit(_tx.AsSpan(0, length), checksum);
    }

    /// <summary>
    /// The frame-level position of a transport checksum the caller left partial at
    /// <paramref name="partialChecksumAt"/> in its payload (none when null), or, for a frame
    /// that is fragmented or held for ARP/NDP (whose pieces and later sends know nothing of
    /// it), the checksum completed in the payload at once.
    /// </summary>
    private PartialChecksum PartialOrComplete(int payloadOffset, int payloadLength, int? partialChecksumAt, bool completeNow)
    {
        if (partialChecksumAt is not { } offset)
        {
            return PartialChecksum.None;
        }
        var checksum = new PartialChecksum(payloadOffset, offset);
        if (!completeNow)
        {
            return checksum;
        }
        checksum.Complete(_tx.AsSpan(0, payloadOffset + payloadLength));
        return PartialChecksum.None;
    }
}
