using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Stack.Udp;

/// <summary>
/// UDP from guests to anywhere, through host sockets. Flows are kept in least-recently-used
/// order: one idle past the timeout is closed, and when the table is full the oldest is
/// evicted (and counted), so bursts of DNS or NTP from fresh source ports never exhaust fds.
/// </summary>
internal sealed class UdpNat : IIpTransport
{
    private readonly NetworkStack _stack;
    private readonly IHostDatagramFactory _factory;
    private readonly Dictionary<IpEndpoint, UdpFlow> _flows = new();
    private readonly LinkedList<UdpFlow> _byAge = new();
    private readonly LoopTimer _expiry;
    private readonly byte[] _quote = new byte[Ipv4Packet.MinHeaderLength + UdpDatagram.HeaderLength];

    public UdpNat(NetworkStack stack, TimerQueue timers, IHostDatagramFactory factory, UdpOptions options)
    {
        _stack = stack;
        _factory = factory;
        Options = options;
        _expiry = timers.Create(Expire);
    }

    public UdpOptions Options { get; }

    public UdpCounters Counters { get; } = new();

    public int Count => _flows.Count;

    public void Receive(IpPacketView packet, Instant now)
    {
        // The stack checked the datagram's length and checksum before handing it here.
        var udp = new UdpDatagram(packet.Payload);
        var destination = new IpEndpoint(packet.Destination, udp.DestinationPort);
        if (Route(destination) is not { } target)
        {
            _stack.Counters.Drop(DropReason.UdpNoService);
            RelayIcmpError(new IpEndpoint(packet.Source, udp.SourcePort), destination,
                IcmpV4Type.DestinationUnreachable, IcmpV4Code.PortUnreachable, packet.Destination.V4, 0, now);
            return;
        }
        var flow = FlowFor(new IpEndpoint(packet.Source, udp.SourcePort), now);
        if (flow?.Socket is null)
        {
            return;
        }
        flow.LastActivity = now;
        Touch(flow);
        Counters.DatagramsFromGuest++;
        Counters.BytesFromGuest += udp.Payload.Length;
        // We are a router: the guest's TTL arrives here one less (RFC 1812 §5.3.1).
        byte ttl = (byte)Math.Max(1, packet.HopLimit - 1);
        bool dontFragment = packet.IsV4 && new Ipv4Packet(packet.Packet).DontFragment;
        var result = flow.Socket.Send(target, udp.Payload, ttl, dontFragment, out int mtu);
        switch (result)
        {
            case HostSendResult.TooBig:
                Counters.TooBig++;
                RelayIcmpError(flow.Guest, destination, IcmpV4Type.DestinationUnreachable, IcmpV4Code.FragmentationNeeded,
                    _stack.Options.Gateway, (uint)mtu, now);
                break;
            case HostSendResult.Unreachable:
                RelayIcmpError(flow.Guest, destination, IcmpV4Type.DestinationUnreachable, IcmpV4Code.HostUnreachable,
                    _stack.Options.Gateway, 0, now);
                break;
            case HostSendResult.Dropped:
                Counters.SendDropped++;
                break;
        }
    }

    /// <summary>The host IP stands for the host's loopback; anything else is itself.</summary>
    private IpEndpoint? Route(IpEndpoint destination)
    {
        if (destination.Address == _stack.Options.Host)
        {
            return Options.HostLoopback ? new IpEndpoint(Ipv4Address.Parse("127.0.0.1"), destination.Port) : null;
        }
        return destination;
    }

    private UdpFlow? FlowFor(IpEndpoint guest, Instant now)
    {
        if (_flows.TryGetValue(guest, out var flow))
        {
            return flow;
        }
        if (_flows.Count >= Options.MaxFlows)
        {
            Counters.FlowsEvicted++;
            Close(_byAge.First!.Value);
        }
        flow = new UdpFlow(this, guest) { LastActivity = now };
        flow.Socket = _factory.OpenUdp(guest.Address, flow);
        if (flow.Socket is null)
        {
            Counters.SocketFailures++;
            return null;
        }
        _flows[guest] = flow;
        _byAge.AddLast(flow.Node);
        Counters.FlowsOpened++;
        _expiry.ScheduleNoLaterThan(now + Options.IdleTimeout);
        return flow;
    }

    /// <summary>Moves a flow to the young end of the age order.</summary>
    public void Touch(UdpFlow flow)
    {
        if (flow.Node.List is not null && flow.Node != _byAge.Last)
        {
            _byAge.Remove(flow.Node);
            _byAge.AddLast(flow.Node);
        }
    }

    private void Expire(Instant now)
    {
        while (_byAge.First is { } oldest && oldest.Value.LastActivity + Options.IdleTimeout <= now)
        {
            Counters.FlowsExpired++;
            Close(oldest.Value);
        }
        if (_byAge.First is { } next)
        {
            _expiry.Schedule(next.Value.LastActivity + Options.IdleTimeout);
        }
    }

    private void Close(UdpFlow flow)
    {
        _flows.Remove(flow.Guest);
        if (flow.Node.List is not null)
        {
            _byAge.Remove(flow.Node);
        }
        flow.Socket?.Close();
        flow.Socket = null;
    }

    /// <summary>Where a reply is received: the UDP payload area of the next frame.</summary>
    public Span<byte> ReceiveBuffer(UdpFlow flow) => _stack.UdpV4Payload[..(65535 - Ipv4Packet.MinHeaderLength - UdpDatagram.HeaderLength)];

    /// <summary>
    /// Sends a reply the host socket received into <see cref="ReceiveBuffer"/>. A reply from
    /// the host's loopback appears to come from the host IP, which is where the guest sent it.
    /// </summary>
    public void DeliverToGuest(UdpFlow flow, IpEndpoint source, int length)
    {
        var from = source.Address.IsLoopback ? new IpEndpoint(_stack.Options.Host, source.Port) : source;
        Counters.DatagramsToGuest++;
        Counters.BytesToGuest += length;
        _stack.FinishUdpV4(from, flow.Guest, length);
    }

    /// <summary>An ICMP error the host got about one of the flow's datagrams, passed on to the guest.</summary>
    public void RelayIcmpError(UdpFlow flow, in HostIcmpError error, Instant now)
    {
        var destination = error.OriginalDestination.Address.IsLoopback
            ? new IpEndpoint(_stack.Options.Host, error.OriginalDestination.Port)
            : error.OriginalDestination;
        var offender = error.Offender.IsLoopback ? _stack.Options.Host : error.Offender;
        if (!offender.IsV4 || !destination.Address.IsV4)
        {
            return;
        }
        Counters.IcmpErrorsRelayed++;
        RelayIcmpError(flow.Guest, destination, error.Type, error.Code, offender.V4, error.Info, now);
    }

    /// <summary>
    /// Sends the guest an ICMP error about its datagram from <paramref name="guest"/> to
    /// <paramref name="destination"/>, quoting the headers it sent (all traceroute needs to match it).
    /// </summary>
    private void RelayIcmpError(IpEndpoint guest, IpEndpoint destination, byte type, byte code, Ipv4Address from, uint info, Instant now)
    {
        Span<byte> quote = _quote;
        Ipv4Packet.WriteHeader(quote, guest.Address.V4, destination.Address.V4, IpProtocol.Udp, UdpDatagram.HeaderLength, 0);
        UdpDatagram.WriteHeader(quote[Ipv4Packet.MinHeaderLength..], guest.Port, destination.Port, 0);
        ushort mtu = type == IcmpV4Type.DestinationUnreachable && code == IcmpV4Code.FragmentationNeeded ? (ushort)info : (ushort)0;
        _stack.SendIcmpV4Error(type, code, mtu, new Ipv4Packet(quote), from, now);
    }

    /// <summary>Closes every flow of a guest that went away.</summary>
    public void CloseGuest(IpAddress guest)
    {
        foreach (var flow in _flows.Values.Where(f => f.Guest.Address == guest).ToList())
        {
            Close(flow);
        }
    }
}
