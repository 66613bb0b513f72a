using System.Text.Json;
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
        stack.GuestGone += CloseGuest;
    }

    public UdpOptions Options { get; }

    public UdpCounters Counters { get; } = new();

    public int Count => _flows.Count;

    /// <summary>The flows open and the counters, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("flows", Count);
        Counters.WriteJson(writer);
    }

    private readonly Dictionary<(IpEndpoint Guest, IpEndpoint Remote), (IPublishedUdpPort Port, IpEndpoint Client)> _published = new();

    /// <summary>
    /// Routes the guest's datagrams from <paramref name="guest"/> to <paramref name="remote"/>
    /// to a published port's client instead of out through NAT.
    /// </summary>
    public void AddPublished(IpEndpoint guest, IpEndpoint remote, IPublishedUdpPort port, IpEndpoint client) =>
        _published[(guest, remote)] = (port, client);

    public void RemovePublished(IpEndpoint guest, IpEndpoint remote) => _published.Remove((guest, remote));

    public void Receive(IpPacketView packet, Instant now)
    {
        // The stack checked the datagram's length and checksum before handing it here.
        var udp = new UdpDatagram(packet.Payload);
        var destination = new IpEndpoint(packet.Destination, udp.DestinationPort);
        if (_published.TryGetValue((new IpEndpoint(packet.Source, udp.SourcePort), destination), out var published))
        {
            published.Port.SendToClient(published.Client, udp.Payload, now);
            return;
        }
        if (Route(destination) is not { } target)
        {
            _stack.Counters.Drop(DropReason.UdpNoService);
            SendError(new IpEndpoint(packet.Source, udp.SourcePort), destination, ErrorKind.PortUnreachable, packet.Destination, 0, now);
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
        // IPv6 is never fragmented on the way (RFC 8200 §5): it always behaves as DF.
        bool dontFragment = !packet.IsV4 || new Ipv4Packet(packet.Packet).DontFragment;
        var result = flow.Socket.Send(target, udp.Payload, ttl, dontFragment, out int mtu);
        var gateway = _stack.Options.GatewayOf(packet.Source);
        switch (result)
        {
            case HostSendResult.TooBig:
                Counters.TooBig++;
                SendError(flow.Guest, destination, ErrorKind.TooBig, gateway, (uint)mtu, now);
                break;
            case HostSendResult.Unreachable:
                SendError(flow.Guest, destination, ErrorKind.HostUnreachable, gateway, 0, now);
                break;
            case HostSendResult.Dropped:
                Counters.SendDropped++;
                break;
        }
    }

    /// <summary>The host IP stands for the host's loopback; anything else is itself.</summary>
    private IpEndpoint? Route(IpEndpoint destination)
    {
        var address = destination.Address;
        if (address == _stack.Options.HostOf(address))
        {
            if (!Options.HostLoopback)
            {
                return null;
            }
            return new IpEndpoint(StackOptions.LoopbackOf(address), destination.Port);
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

    /// <summary>Where a reply is received: the UDP payload area of the next frame of the flow's family.</summary>
    public Span<byte> ReceiveBuffer(UdpFlow flow) =>
        _stack.UdpPayload(flow.Guest.Address)[..(65535 - Ipv4Packet.MinHeaderLength - UdpDatagram.HeaderLength)];

    /// <summary>
    /// Sends a reply the host socket received into <see cref="ReceiveBuffer"/>. A reply from
    /// the host's loopback appears to come from the host IP, which is where the guest sent it.
    /// </summary>
    public void DeliverToGuest(UdpFlow flow, IpEndpoint source, int length)
    {
        var from = source.Address.IsLoopback ? new IpEndpoint(_stack.Options.HostOf(source.Address), source.Port) : source;
        Counters.DatagramsToGuest++;
        Counters.BytesToGuest += length;
        _stack.FinishUdp(from, flow.Guest, length);
    }

    /// <summary>An ICMP error the host got about one of the flow's datagrams, passed on to the guest.</summary>
    public void RelayIcmpError(UdpFlow flow, in HostIcmpError error, Instant now)
    {
        var original = error.OriginalDestination;
        var destination = original.Address.IsLoopback ? new IpEndpoint(_stack.Options.HostOf(original.Address), original.Port) : original;
        var offender = error.Offender.IsLoopback ? _stack.Options.HostOf(error.Offender) : error.Offender;
        if (offender.IsV4 != flow.Guest.Address.IsV4 || destination.Address.IsV4 != flow.Guest.Address.IsV4)
        {
            return;
        }
        Counters.IcmpErrorsRelayed++;
        if (flow.Guest.Address.IsV4)
        {
            SendErrorV4(flow.Guest, destination, error.Type, error.Code, offender.V4, error.Info, now);
        }
        else
        {
            SendErrorV6(flow.Guest, destination, error.Type, error.Code, offender.V6, error.Info, now);
        }
    }

    private enum ErrorKind
    {
        PortUnreachable,
        HostUnreachable,
        TooBig,
    }

    /// <summary>An error the NAT itself raises, in the guest's family.</summary>
    private void SendError(IpEndpoint guest, IpEndpoint destination, ErrorKind kind, IpAddress from, uint info, Instant now)
    {
        if (guest.Address.IsV4)
        {
            var (type, code) = kind switch
            {
                ErrorKind.PortUnreachable => (IcmpV4Type.DestinationUnreachable, IcmpV4Code.PortUnreachable),
                ErrorKind.HostUnreachable => (IcmpV4Type.DestinationUnreachable, IcmpV4Code.HostUnreachable),
                _ => (IcmpV4Type.DestinationUnreachable, IcmpV4Code.FragmentationNeeded),
            };
            SendErrorV4(guest, destination, type, code, from.V4, info, now);
        }
        else
        {
            var (type, code) = kind switch
            {
                ErrorKind.PortUnreachable => (Icmpv6Type.DestinationUnreachable, Icmpv6Code.PortUnreachable),
                ErrorKind.HostUnreachable => (Icmpv6Type.DestinationUnreachable, Icmpv6Code.AddressUnreachable),
                _ => (Icmpv6Type.PacketTooBig, (byte)0),
            };
            SendErrorV6(guest, destination, type, code, from.V6, info, now);
        }
    }

    /// <summary>
    /// Sends the guest an ICMP error about its datagram from <paramref name="guest"/> to
    /// <paramref name="destination"/>, quoting the headers it sent (all traceroute needs to match it).
    /// </summary>
    private void SendErrorV4(IpEndpoint guest, IpEndpoint destination, byte type, byte code, Ipv4Address from, uint info, Instant now)
    {
        Span<byte> quote = _quote;
        Ipv4Packet.WriteHeader(quote, guest.Address.V4, destination.Address.V4, IpProtocol.Udp, UdpDatagram.HeaderLength, 0);
        UdpDatagram.WriteHeader(quote[Ipv4Packet.MinHeaderLength..], guest.Port, destination.Port, 0);
        ushort mtu = type == IcmpV4Type.DestinationUnreachable && code == IcmpV4Code.FragmentationNeeded ? (ushort)info : (ushort)0;
        _stack.SendIcmpV4Error(type, code, mtu, new Ipv4Packet(quote), from, now);
    }

    private void SendErrorV6(IpEndpoint guest, IpEndpoint destination, byte type, byte code, Ipv6Address from, uint info, Instant now)
    {
        Span<byte> quote = stackalloc byte[Ipv6Packet.HeaderLength + UdpDatagram.HeaderLength];
        Ipv6Packet.WriteHeader(quote, guest.Address.V6, destination.Address.V6, IpProtocol.Udp, UdpDatagram.HeaderLength, 64);
        UdpDatagram.WriteHeader(quote[Ipv6Packet.HeaderLength..], guest.Port, destination.Port, 0);
        uint word = type == Icmpv6Type.PacketTooBig ? info : 0;
        _stack.SendIcmpv6Error(type, code, word, quote, from, now);
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
