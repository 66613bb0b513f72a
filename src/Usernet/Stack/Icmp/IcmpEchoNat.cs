using System.Text.Json;
using Usernet.Platform;
using Usernet.Stack.Egress;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Stack.Icmp;

/// <summary>
/// Ping from guests to anywhere, through the host's ICMP sockets: each guest (address, echo
/// identifier, on its link) gets a socket whose replies come back with the guest's identifier restored.
/// Time-exceeded and unreachable errors are relayed too, so traceroute -I and mtr show the
/// path. Flows age out like UDP's, in a <see cref="FlowTable{TKey, TFlow}"/>.
/// </summary>
internal sealed class IcmpEchoNat : IIpTransport
{
    private const int MaxFlows = 1024;

    private readonly NetworkStack _stack;
    private readonly IHostDatagramFactory _factory;
    private readonly FlowTable<(IpAddress Guest, ushort Id, int LinkId), EchoFlow> _flows;
    private bool _unavailableLogged;

    public IcmpEchoNat(NetworkStack stack, TimerQueue timers, IHostDatagramFactory factory, TimeSpan idleTimeout)
    {
        _stack = stack;
        _factory = factory;
        _flows = new FlowTable<(IpAddress Guest, ushort Id, int LinkId), EchoFlow>(MaxFlows, idleTimeout, timers, OnFlowEnded);
        stack.GuestGone += CloseGuest;
    }

    public long EchoesSent { get; private set; }

    public long RepliesRelayed { get; private set; }

    public long ErrorsRelayed { get; private set; }

    public long Unavailable { get; private set; }

    public long FlowsOpened { get; private set; }

    /// <summary>ICMP bytes (header and data) of the echo requests sent for guests.</summary>
    public long BytesFromGuest { get; private set; }

    /// <summary>ICMP bytes (header and data) of the echo replies relayed to guests.</summary>
    public long BytesToGuest { get; private set; }

    public int Count => _flows.Count;

    /// <summary>The records of the flows open now.</summary>
    public IEnumerable<FlowRecord> OpenRecords => _flows.Flows.Select(f => f.Record);

    /// <summary>The flows open and the counters, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("flows", Count);
        writer.WriteNumber("echoesSent", EchoesSent);
        writer.WriteNumber("repliesRelayed", RepliesRelayed);
        writer.WriteNumber("errorsRelayed", ErrorsRelayed);
        writer.WriteNumber("refused", Unavailable);
        writer.WriteNumber("flowsOpened", FlowsOpened);
        writer.WriteNumber("bytesFromGuest", BytesFromGuest);
        writer.WriteNumber("bytesToGuest", BytesToGuest);
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
        var gate = _stack.Egress;
        // One lookup per request: it also counts as use for the idle timeout, a denied one too.
        _flows.TryGet((packet.Source, icmp.Identifier, packet.LinkId), now, out var existing);
        var memo = existing?.Egress ?? default;
        var verdict = EgressRule.Decide(_stack.Options, gate.Policy, gate.Names, EgressProtocols.Icmp, new IpEndpoint(packet.Destination, 0), null, now, ref memo, out var destination);
        if (verdict is not (EgressVerdict.Direct or EgressVerdict.HostLoopback))
        {
            _stack.Counters.Drop(verdict == EgressVerdict.Denied ? DropReason.EgressDenied : DropReason.EgressRefused);
            _stack.SendIcmpError(IcmpError.Prohibited(packet.Source), packet, _stack.Options.GatewayOf(packet.Source), now);
            if (existing is not null)
            {
                existing.Egress = memo;
            }
            return;
        }
        var flow = existing ?? NewFlow(packet.Source, icmp.Identifier, packet.Destination, packet.LinkId, memo.Decision, now);
        if (flow?.Socket is null)
        {
            Refuse(packet, now);
            return;
        }
        flow.Egress = memo;
        byte ttl = (byte)Math.Max(1, packet.HopLimit - 1);
        var result = flow.Socket.Send(new IpEndpoint(destination, 0), packet.Payload, ttl, dontFragment: false, out _);
        if (result == HostSendResult.Sent)
        {
            EchoesSent++;
            BytesFromGuest += packet.Payload.Length;
            flow.Record.PacketsFromGuest++;
            flow.Record.BytesFromGuest += packet.Payload.Length;
        }
        else if (result == HostSendResult.Unreachable)
        {
            ErrorsRelayed++;
            _stack.SendIcmpError(IcmpError.HostUnreachable(packet.Source), packet, _stack.Options.GatewayOf(packet.Source), now);
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
        _stack.SendIcmpError(IcmpError.Prohibited(packet.Source), packet, _stack.Options.GatewayOf(packet.Source), now);
    }

    private EchoFlow? NewFlow(IpAddress guest, ushort id, IpAddress destination, int linkId, EgressDecision decision, Instant now)
    {
        var record = new FlowRecord(IpProtocol.Icmp, linkId, new IpEndpoint(guest, id), new IpEndpoint(destination, 0), inbound: false, now) { Egress = decision };
        var flow = new EchoFlow(this, guest, id, linkId, record);
        flow.Socket = _factory.OpenPing(guest, flow);
        if (flow.Socket is null)
        {
            return null;
        }
        _flows.Add((guest, id, linkId), flow, now);
        FlowsOpened++;
        _stack.FlowStarted?.Invoke(flow.Record);
        return flow;
    }

    /// <summary>Counts a use of the flow (a reply from the host) for its idle timeout.</summary>
    public void Touch(EchoFlow flow, Instant now) => _flows.Touch((flow.Guest, flow.Id, flow.LinkId), now);

    private void OnFlowEnded(EchoFlow flow, FlowEnd end)
    {
        flow.Socket?.Close();
        flow.Socket = null;
        _stack.FlowEnded?.Invoke(flow.Record, end);
    }

    /// <summary>Closes the echo sockets of a guest that went away.</summary>
    public void CloseGuest(IpAddress guest) => _flows.CloseWhere(key => key.Guest == guest);

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
            BytesToGuest += length;
            flow.Record.PacketsToGuest++;
            flow.Record.BytesToGuest += length;
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
        BytesToGuest += length;
        flow.Record.PacketsToGuest++;
        flow.Record.BytesToGuest += length;
        _stack.SendIpv6(from.V6, flow.Guest.V6, IpProtocol.Icmpv6, length, mayFragment: true);
    }

    /// <summary>An ICMP error about the guest's echo request, quoting its header as the guest sent it.</summary>
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
        Span<byte> head = stackalloc byte[IcmpV4Message.HeaderLength];
        byte protocol;
        if (flow.Guest.IsV4)
        {
            var echo = new IcmpV4Message(head) { Type = IcmpV4Type.EchoRequest, Code = 0, Identifier = flow.Id, SequenceNumber = error.QuotedSequence };
            echo.FillChecksum();
            protocol = IpProtocol.Icmp;
        }
        else
        {
            var echo = new Icmpv6Message(head) { Type = Icmpv6Type.EchoRequest, Code = 0, Identifier = flow.Id, SequenceNumber = error.QuotedSequence };
            echo.FillChecksum(InternetChecksum.PseudoHeaderV6(flow.Guest.V6, to.V6, IpProtocol.Icmpv6, Icmpv6Message.HeaderLength));
            protocol = IpProtocol.Icmpv6;
        }
        _stack.SendIcmpError(new IcmpError(error.Type, error.Code, error.Info), flow.Guest, to, protocol, head, offender, now);
    }
}
