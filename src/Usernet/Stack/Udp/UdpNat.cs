using System.Text.Json;
using Usernet.Platform;
using Usernet.Stack.Egress;
using Usernet.Wire;

namespace Usernet.Stack.Udp;

/// <summary>
/// UDP from guests to anywhere, through host sockets: one per guest (address, port) on its
/// link, in a <see cref="FlowTable{TKey, TFlow}"/> that closes the idle and, when full, the
/// least recently used, counting both.
/// </summary>
internal sealed class UdpNat : IIpTransport
{
    private readonly NetworkStack _stack;
    private readonly IHostDatagramFactory _factory;
    private readonly FlowTable<(IpEndpoint Guest, int LinkId), UdpFlow> _flows;

    public UdpNat(NetworkStack stack, TimerQueue timers, IHostDatagramFactory factory, UdpOptions options)
    {
        _stack = stack;
        _factory = factory;
        Options = options;
        _flows = new FlowTable<(IpEndpoint Guest, int LinkId), UdpFlow>(options.MaxFlows, options.IdleTimeout, timers, OnFlowEnded);
        stack.GuestGone += CloseGuest;
    }

    public UdpOptions Options { get; }

    public UdpCounters Counters { get; } = new();

    public int Count => _flows.Count;

    /// <summary>The records of the flows open now.</summary>
    public IEnumerable<FlowRecord> OpenRecords => _flows.Flows.Select(f => f.Record);

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
        var guest = new IpEndpoint(packet.Source, udp.SourcePort);
        var gate = _stack.Egress;
        // One lookup per datagram: it also counts as use for the idle timeout, a denied one too.
        _flows.TryGet((guest, packet.LinkId), now, out var existing);
        var memo = existing?.Egress ?? default;
        var verdict = EgressRule.Decide(_stack.Options, gate.Policy, gate.Names, EgressProtocols.Udp, destination, null, now, ref memo, out var address);
        if (verdict is not (EgressVerdict.Direct or EgressVerdict.HostLoopback))
        {
            // Refused (see EgressRule) or denied by the egress policy, or the gateway, whose
            // ports the stack's services own.
            _stack.Counters.Drop(verdict == EgressVerdict.Denied ? DropReason.EgressDenied : DropReason.EgressRefused);
            _stack.SendIcmpError(IcmpError.Prohibited(packet.Source), packet, _stack.Options.GatewayOf(packet.Source), now);
            if (existing is not null)
            {
                existing.Egress = memo;
            }
            return;
        }
        var target = new IpEndpoint(address, destination.Port);
        var flow = existing ?? NewFlow(guest, destination, packet.LinkId, memo.Decision, now);
        if (flow?.Socket is null)
        {
            return;
        }
        flow.Egress = memo;
        Counters.DatagramsFromGuest++;
        Counters.BytesFromGuest += udp.Payload.Length;
        flow.Record.PacketsFromGuest++;
        flow.Record.BytesFromGuest += udp.Payload.Length;
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
                _stack.SendIcmpError(IcmpError.TooBig(gateway, mtu), packet, gateway, now);
                break;
            case HostSendResult.Unreachable:
                _stack.SendIcmpError(IcmpError.HostUnreachable(gateway), packet, gateway, now);
                break;
            case HostSendResult.Dropped:
                Counters.SendDropped++;
                break;
        }
    }

    private UdpFlow? NewFlow(IpEndpoint guest, IpEndpoint destination, int linkId, EgressDecision decision, Instant now)
    {
        var flow = new UdpFlow(this, guest, linkId, new FlowRecord(IpProtocol.Udp, linkId, guest, destination, inbound: false, now) { Egress = decision });
        flow.Socket = _factory.OpenUdp(guest.Address, flow);
        if (flow.Socket is null)
        {
            Counters.SocketFailures++;
            return null;
        }
        _flows.Add((guest, linkId), flow, now);
        Counters.FlowsOpened++;
        _stack.FlowStarted?.Invoke(flow.Record);
        return flow;
    }

    /// <summary>Counts a use of the flow (a reply from the host) for its idle timeout.</summary>
    public void Touch(UdpFlow flow, Instant now) => _flows.Touch((flow.Guest, flow.LinkId), now);

    private void OnFlowEnded(UdpFlow flow, FlowEnd end)
    {
        if (end == FlowEnd.Evicted)
        {
            Counters.FlowsEvicted++;
        }
        else if (end == FlowEnd.Expired)
        {
            Counters.FlowsExpired++;
        }
        flow.Socket?.Close();
        flow.Socket = null;
        _stack.FlowEnded?.Invoke(flow.Record, end);
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
        flow.Record.PacketsToGuest++;
        flow.Record.BytesToGuest += length;
        _stack.FinishUdp(from, flow.Guest, length);
    }

    /// <summary>
    /// An ICMP error the host got about one of the flow's datagrams, passed on to the guest,
    /// quoting the UDP header it sent (all traceroute needs to match it).
    /// </summary>
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
        Span<byte> head = stackalloc byte[UdpDatagram.HeaderLength];
        UdpDatagram.WriteHeader(head, flow.Guest.Port, destination.Port, 0);
        _stack.SendIcmpError(new IcmpError(error.Type, error.Code, error.Info), flow.Guest.Address, destination.Address, IpProtocol.Udp, head, offender, now);
    }

    /// <summary>Closes every flow of a guest that went away.</summary>
    public void CloseGuest(IpAddress guest) => _flows.CloseWhere(key => key.Guest.Address == guest);
}
