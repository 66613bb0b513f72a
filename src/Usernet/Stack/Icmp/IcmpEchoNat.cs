using System.Text.Json;
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
        stack.GuestGone += CloseGuest;
    }

    public long EchoesSent { get; private set; }

    public long RepliesRelayed { get; private set; }

    public long ErrorsRelayed { get; private set; }

    public long Unavailable { get; private set; }

    public int Count => _flows.Count;

    /// <summary>The flows open and the counters, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("flows", Count);
        writer.WriteNumber("echoesSent", EchoesSent);
        writer.WriteNumber("repliesRelayed", RepliesRelayed);
        writer.WriteNumber("errorsRelayed", ErrorsRelayed);
        writer.WriteNumber("refused", Unavailable);
    }

    public void Receive(IpPacketView packet, Instant now)
    {
        var icmp = new IcmpV4Message(packet.Payload);
        byte echoRequest = packet.IsV4 ? IcmpV4Type.EchoRequest : Icmpv6Type.EchoRequest;
        if (icmp.Type != echoRequest || icmp.Code != 0)
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
        var destination = packet.Destination;
        if (destination == _stack.Options.HostOf(destination))
        {
            destination = StackOptions.LoopbackOf(destination);
        }
        byte ttl = (byte)Math.Max(1, packet.HopLimit - 1);
        var result = flow.Socket.Send(new IpEndpoint(destination, 0), packet.Payload, ttl, dontFragment: false, out _);
        if (result == HostSendResult.Sent)
        {
            EchoesSent++;
        }
        else if (result == HostSendResult.Unreachable)
        {
            var error = packet.IsV4
                ? new HostIcmpError(IcmpV4Type.DestinationUnreachable, IcmpV4Code.HostUnreachable, _stack.Options.Gateway, new IpEndpoint(packet.Destination, 0), 0, icmp.SequenceNumber)
                : new HostIcmpError(Icmpv6Type.DestinationUnreachable, Icmpv6Code.AddressUnreachable, _stack.Options.GatewayV6, new IpEndpoint(packet.Destination, 0), 0, icmp.SequenceNumber);
            RelayError(flow, error, now);
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
        if (packet.IsV4)
        {
            _stack.SendIcmpV4Error(IcmpV4Type.DestinationUnreachable, IcmpV4Code.AdministrativelyProhibited, 0,
                new Ipv4Packet(packet.Packet), _stack.Options.Gateway, now);
        }
        else
        {
            _stack.SendIcmpv6Error(Icmpv6Type.DestinationUnreachable, Icmpv6Code.AdministrativelyProhibited, 0,
                packet.Packet, _stack.Options.GatewayV6, now);
        }
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

    /// <summary>Closes the echo sockets of a guest that went away.</summary>
    public void CloseGuest(IpAddress guest)
    {
        foreach (var flow in _flows.Values.Where(f => f.Guest == guest).ToList())
        {
            Close(flow);
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

    /// <summary>Where an echo reply is received: the ICMP area of the next frame of the flow's family.</summary>
    public Span<byte> ReceiveBuffer(EchoFlow flow) => _stack.IpPayload(flow.Guest)[..(65535 - Ipv4Packet.MinHeaderLength)];

    /// <summary>An echo reply (header and data) is in <see cref="ReceiveBuffer"/>: give it the guest's identifier and send it.</summary>
    public void DeliverReply(EchoFlow flow, IpAddress source, int length)
    {
        bool v4 = flow.Guest.IsV4;
        if (length < IcmpV4Message.HeaderLength || source.IsV4 != v4)
        {
            return;
        }
        var from = source.IsLoopback ? _stack.Options.HostOf(source) : source;
        Span<byte> buffer = _stack.IpPayload(flow.Guest)[..length];
        if (v4)
        {
            var reply = new IcmpV4Message(buffer);
            if (reply.Type != IcmpV4Type.EchoReply)
            {
                return;
            }
            reply.Identifier = flow.Id;
            reply.FillChecksum();
            RepliesRelayed++;
            _stack.SendIpv4(from.V4, flow.Guest.V4, IpProtocol.Icmp, length, dontFragment: false);
            return;
        }
        var reply6 = new Icmpv6Message(buffer);
        if (reply6.Type != Icmpv6Type.EchoReply)
        {
            return;
        }
        reply6.Identifier = flow.Id;
        reply6.FillChecksum(InternetChecksum.PseudoHeaderV6(from.V6, flow.Guest.V6, IpProtocol.Icmpv6, length));
        RepliesRelayed++;
        _stack.SendIpv6(from.V6, flow.Guest.V6, IpProtocol.Icmpv6, length, mayFragment: true);
    }

    /// <summary>An ICMP error about the guest's echo request, quoting it as the guest sent it.</summary>
    public void RelayError(EchoFlow flow, in HostIcmpError error, Instant now)
    {
        var destination = error.OriginalDestination.Address;
        if (destination.IsV4 != flow.Guest.IsV4 || error.Offender.IsV4 != flow.Guest.IsV4)
        {
            return;
        }
        var to = destination.IsLoopback ? _stack.Options.HostOf(destination) : destination;
        var offender = error.Offender.IsLoopback ? _stack.Options.HostOf(error.Offender) : error.Offender;
        ErrorsRelayed++;
        if (flow.Guest.IsV4)
        {
            Span<byte> quote = _quote;
            Ipv4Packet.WriteHeader(quote, flow.Guest.V4, to.V4, IpProtocol.Icmp, IcmpV4Message.HeaderLength, 0);
            var echo = new IcmpV4Message(quote[Ipv4Packet.MinHeaderLength..])
            {
                Type = IcmpV4Type.EchoRequest,
                Code = 0,
                Identifier = flow.Id,
                SequenceNumber = error.QuotedSequence,
            };
            echo.FillChecksum();
            _stack.SendIcmpV4Error(error.Type, error.Code, 0, new Ipv4Packet(quote), offender.V4, now);
            return;
        }
        Span<byte> quote6 = stackalloc byte[Ipv6Packet.HeaderLength + Icmpv6Message.HeaderLength];
        Ipv6Packet.WriteHeader(quote6, flow.Guest.V6, to.V6, IpProtocol.Icmpv6, Icmpv6Message.HeaderLength, 64);
        var echo6 = new Icmpv6Message(quote6[Ipv6Packet.HeaderLength..])
        {
            Type = Icmpv6Type.EchoRequest,
            Code = 0,
            Identifier = flow.Id,
            SequenceNumber = error.QuotedSequence,
        };
        echo6.FillChecksum(InternetChecksum.PseudoHeaderV6(flow.Guest.V6, to.V6, IpProtocol.Icmpv6, Icmpv6Message.HeaderLength));
        _stack.SendIcmpv6Error(error.Type, error.Code, error.Type == Icmpv6Type.PacketTooBig ? error.Info : 0, quote6, offender.V6, now);
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

    public Span<byte> ReceiveBuffer => _nat.ReceiveBuffer(this);

    public void OnHostDatagram(IpEndpoint source, int length, Instant now)
    {
        LastActivity = now;
        _nat.Touch(this);
        _nat.DeliverReply(this, source.Address, length);
    }

    public void OnHostIcmpError(in HostIcmpError error, Instant now) => _nat.RelayError(this, error, now);
}
