using Usernet.Platform;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Stack.Icmp;

/// <summary>
/// Ping from guests to anywhere, through the host's ICMP sockets: each guest (address, echo
/// identifier) gets a socket whose replies come back with the guest's identifier restored.
/// Time-exceeded and unreachable errors are relayed too, so traceroute -I and mtr show the
/// path. Flows age out like UDP's.
/// </summary>
internal sealed class IcmpEchoNat : IIpTransport
{
    private const int MaxFlows = 1024;

    private readonly NetworkStack _stack;
    private readonly IHostDatagramFactory _factory;
    private readonly TimeSpan _idleTimeout;
    private readonly Dictionary<(IpAddress Guest, ushort Id), EchoFlow> _flows = new();
    private readonly LinkedList<EchoFlow> _byAge = new();
    private readonly LoopTimer _expiry;
    private readonly byte[] _quote = new byte[Ipv4Packet.MinHeaderLength + IcmpV4Message.HeaderLength];
    private bool _unavailableLogged;

    public IcmpEchoNat(NetworkStack stack, TimerQueue timers, IHostDatagramFactory factory, TimeSpan idleTimeout)
    {
        _stack = stack;
        _factory = factory;
        _idleTimeout = idleTimeout;
        _expiry = timers.Create(Expire);
    }

    public long EchoesSent { get; private set; }

    public long RepliesRelayed { get; private set; }

    public long ErrorsRelayed { get; private set; }

    public long Unavailable { get; private set; }

    public int Count => _flows.Count;

    public void Receive(IpPacketView packet, Instant now)
    {
        var icmp = new IcmpV4Message(packet.Payload);
        if (icmp.Type != IcmpV4Type.EchoRequest || icmp.Code != 0)
        {
            // Errors and replies from a guest to the outside have nobody to go to.
            _stack.Counters.Drop(DropReason.IcmpUnsupported);
            return;
        }
        var flow = FlowFor(packet.Source, icmp.Identifier, now);
        if (flow?.Socket is null)
        {
            Refuse(packet, now);
            return;
        }
        flow.LastActivity = now;
        Touch(flow);
        var destination = packet.Destination == _stack.Options.Host ? (IpAddress)Ipv4Address.Parse("127.0.0.1") : packet.Destination;
        byte ttl = (byte)Math.Max(1, packet.HopLimit - 1);
        var result = flow.Socket.Send(new IpEndpoint(destination, 0), packet.Payload, ttl, dontFragment: false, out _);
        if (result == HostSendResult.Sent)
        {
            EchoesSent++;
        }
        else if (result == HostSendResult.Unreachable)
        {
            RelayError(flow.Guest, packet.Destination.V4, icmp.Identifier, icmp.SequenceNumber,
                IcmpV4Type.DestinationUnreachable, IcmpV4Code.HostUnreachable, _stack.Options.Gateway, now);
        }
    }

    /// <summary>Where the host forbids ICMP sockets, the guest hears at once that it is filtered.</summary>
    private void Refuse(IpPacketView packet, Instant now)
    {
        Unavailable++;
        if (!_unavailableLogged && _factory.PingUnavailableReason is { } reason)
        {
            _unavailableLogged = true;
            Log.Warn($"ping to addresses outside the guest network is unavailable: {reason}");
        }
        _stack.SendIcmpV4Error(IcmpV4Type.DestinationUnreachable, IcmpV4Code.AdministrativelyProhibited, 0,
            new Ipv4Packet(packet.Packet), _stack.Options.Gateway, now);
    }

    private EchoFlow? FlowFor(IpAddress guest, ushort id, Instant now)
    {
        if (_flows.TryGetValue((guest, id), out var flow))
        {
            return flow;
        }
        if (_flows.Count >= MaxFlows)
        {
            Close(_byAge.First!.Value);
        }
        flow = new EchoFlow(this, guest, id) { LastActivity = now };
        flow.Socket = _factory.OpenPing(guest, flow);
        if (flow.Socket is null)
        {
            return null;
        }
        _flows[(guest, id)] = flow;
        _byAge.AddLast(flow.Node);
        _expiry.ScheduleNoLaterThan(now + _idleTimeout);
        return flow;
    }

    public void Touch(EchoFlow flow)
    {
        if (flow.Node.List is not null && flow.Node != _byAge.Last)
        {
            _byAge.Remove(flow.Node);
            _byAge.AddLast(flow.Node);
        }
    }

    private void Expire(Instant now)
    {
        while (_byAge.First is { } oldest && oldest.Value.LastActivity + _idleTimeout <= now)
        {
            Close(oldest.Value);
        }
        if (_byAge.First is { } next)
        {
            _expiry.Schedule(next.Value.LastActivity + _idleTimeout);
        }
    }

    private void Close(EchoFlow flow)
    {
        _flows.Remove((flow.Guest, flow.Id));
        if (flow.Node.List is not null)
        {
            _byAge.Remove(flow.Node);
        }
        flow.Socket?.Close();
        flow.Socket = null;
    }

    /// <summary>Where an echo reply is received: the ICMP area of the next frame.</summary>
    public Span<byte> ReceiveBuffer => _stack.Ipv4Payload[..(65535 - Ipv4Packet.MinHeaderLength)];

    /// <summary>An echo reply (header and data) is in <see cref="ReceiveBuffer"/>: give it the guest's identifier and send it.</summary>
    public void DeliverReply(EchoFlow flow, IpAddress source, int length)
    {
        if (length < IcmpV4Message.HeaderLength || !source.IsV4)
        {
            return;
        }
        var reply = new IcmpV4Message(_stack.Ipv4Payload[..length]);
        if (reply.Type != IcmpV4Type.EchoReply)
        {
            return;
        }
        reply.Identifier = flow.Id;
        reply.FillChecksum();
        var from = source.IsLoopback ? _stack.Options.Host : source.V4;
        RepliesRelayed++;
        _stack.SendIpv4(from, flow.Guest.V4, IpProtocol.Icmp, length, dontFragment: false);
    }

    public void RelayError(EchoFlow flow, in HostIcmpError error, Instant now)
    {
        var destination = error.OriginalDestination.Address;
        if (!destination.IsV4 || !error.Offender.IsV4)
        {
            return;
        }
        var to = destination.IsLoopback ? _stack.Options.Host : destination.V4;
        var offender = error.Offender.IsLoopback ? _stack.Options.Host : error.Offender.V4;
        ErrorsRelayed++;
        RelayError(flow.Guest, to, flow.Id, error.QuotedSequence, error.Type, error.Code, offender, now);
    }

    /// <summary>An ICMP error about the guest's echo request, quoting it as the guest sent it.</summary>
    private void RelayError(IpAddress guest, Ipv4Address destination, ushort id, ushort sequence, byte type, byte code, Ipv4Address from, Instant now)
    {
        Span<byte> quote = _quote;
        Ipv4Packet.WriteHeader(quote, guest.V4, destination, IpProtocol.Icmp, IcmpV4Message.HeaderLength, 0);
        var echo = new IcmpV4Message(quote[Ipv4Packet.MinHeaderLength..])
        {
            Type = IcmpV4Type.EchoRequest,
            Code = 0,
            Identifier = id,
            SequenceNumber = sequence,
        };
        echo.FillChecksum();
        _stack.SendIcmpV4Error(type, code, 0, new Ipv4Packet(quote), from, now);
    }
}

/// <summary>One guest (address, echo identifier) and its host ICMP socket.</summary>
internal sealed class EchoFlow : IHostDatagramEvents
{
    private readonly IcmpEchoNat _nat;

    public EchoFlow(IcmpEchoNat nat, IpAddress guest, ushort id)
    {
        _nat = nat;
        Guest = guest;
        Id = id;
        Node = new LinkedListNode<EchoFlow>(this);
    }

    public IpAddress Guest { get; }

    public ushort Id { get; }

    public IHostDatagramSocket? Socket { get; set; }

    public Instant LastActivity { get; set; }

    public LinkedListNode<EchoFlow> Node { get; }

    public Span<byte> ReceiveBuffer => _nat.ReceiveBuffer;

    public void OnHostDatagram(IpEndpoint source, int length, Instant now)
    {
        LastActivity = now;
        _nat.Touch(this);
        _nat.DeliverReply(this, source.Address, length);
    }

    public void OnHostIcmpError(in HostIcmpError error, Instant now) => _nat.RelayError(this, error, now);
}
