using System.Text.Json;
using Usernet.Platform;
using Usernet.Stack.Egress;
using Usernet.Wire;

namespace Usernet.Stack.Tcp;

/// <summary>
/// TCP for the stack: finds the connection of each guest segment, opens new ones from SYNs
/// within the connection limit, answers stray segments with RST (RFC 9293 §3.10.7.1), and
/// builds the segments connections send. ACKs are gathered and sent once per loop batch.
/// </summary>
internal sealed class TcpTransport : IIpTransport
{
    private const int SynOptionsLength = 8;

    private readonly NetworkStack _stack;
    private readonly TimerQueue _timers;
    private readonly Dictionary<TcpFlowKey, TcpConnection> _flows = new();
    private readonly List<TcpConnection> _ackQueue = new();
    private readonly LoopTimer _yieldedTurn;
    private List<TcpConnection> _waiting = new();
    private List<TcpConnection> _resuming = new();
    private int _inbound;

    public TcpTransport(NetworkStack stack, TimerQueue timers, ITcpHostConnector connector, TcpOptions options)
    {
        _stack = stack;
        _timers = timers;
        Connector = connector;
        Options = options;
        _yieldedTurn = timers.Create(SendYielded);
    }

    public TcpOptions Options { get; }

    public TcpCounters Counters { get; } = new();

    /// <summary>What all connections together may hold of guest data their host sockets could not take yet.</summary>
    public BacklogBudget Backlog { get; } = new(128L * 1024 * 1024);

    public ITcpHostConnector Connector { get; }

    public int Count => _flows.Count;

    /// <summary>Connections remote clients opened through published ports (the rest the guests opened).</summary>
    public int InboundCount => _inbound;

    public IEnumerable<TcpConnection> Connections => _flows.Values;

    /// <summary>The connections open and the counters, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("connections", Count);
        writer.WriteNumber("inboundConnections", InboundCount);
        Counters.WriteJson(writer);
    }

    public void Receive(IpPacketView packet, Instant now)
    {
        if (!TcpSegment.TryParse(packet.Payload, out var segment))
        {
            _stack.Counters.Drop(DropReason.TcpMalformed);
            return;
        }
        if (!_stack.FrameChecksumTrusted && !segment.VerifyChecksum(packet.PseudoHeaderSum(packet.Payload.Length)))
        {
            _stack.Counters.Drop(DropReason.TcpBadChecksum);
            return;
        }
        Counters.SegmentsIn++;
        var key = new TcpFlowKey(new IpEndpoint(packet.Source, segment.SourcePort), new IpEndpoint(packet.Destination, segment.DestinationPort), packet.LinkId);
        bool isSyn = (segment.Flags & (TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Rst)) == TcpFlags.Syn;
        if (isSyn && (segment.Flags & TcpFlags.Fin) != 0)
        {
            // No real stack sends SYN+FIN; scanners do, to slip past firewalls. Linux drops it
            // unanswered, and so do we, rather than connect the host socket for it.
            _stack.Counters.Drop(DropReason.TcpMalformed);
            return;
        }
        if (_flows.TryGetValue(key, out var connection))
        {
            if (!isSyn || !connection.CanBeReplacedBy(segment))
            {
                connection.Record.PacketsFromGuest++;
                connection.OnSegment(segment, now);
                return;
            }
            connection.Replace();
        }
        if (!isSyn)
        {
            RefuseStray(key, segment);
            return;
        }
        Open(key, segment, now);
    }

    private void Open(TcpFlowKey key, TcpSegment syn, Instant now)
    {
        if (!syn.TryReadSynOptions(out var options))
        {
            _stack.Counters.Drop(DropReason.TcpMalformed);
            return;
        }
        if (_flows.Count - _inbound >= Options.MaxConnections)
        {
            Counters.LimitReached++;
            _stack.Counters.Drop(DropReason.TcpLimit);
            SendReset(key, new SeqNumber(0), new SeqNumber(syn.SequenceNumber) + 1, withAck: true);
            return;
        }
        if (Route(key.Remote, now, out var decision) is not { } destination)
        {
            bool denied = decision is { Allowed: false };
            Counters.Refused++;
            _stack.Counters.Drop(denied ? DropReason.EgressDenied : DropReason.TcpRefused);
            if (denied)
            {
                LogDenied(key, decision!.Value, now);
            }
            if (denied && _stack.Egress.Policy.TcpRefusal == EgressTcpRefusal.Icmp)
            {
                SendProhibited(key, new SeqNumber(syn.SequenceNumber), now);
                return;
            }
            SendReset(key, new SeqNumber(0), new SeqNumber(syn.SequenceNumber) + 1, withAck: true);
            return;
        }
        var connection = new TcpConnection(this, key, _timers, Options, now);
        connection.Record.PacketsFromGuest++;
        connection.Record.Egress = decision;
        _flows[key] = connection;
        _stack.FlowStarted?.Invoke(connection.Record);
        connection.OpenFromGuest(syn, options, destination, LinkMss(key.Guest.Address), now);
    }

    /// <summary>
    /// Opens a connection into the guest for a host client a published port accepted: the
    /// guest sees a SYN from <paramref name="remote"/> to <paramref name="guest"/>. Returns null
    /// (and the caller closes the client) when the inbound connection limit is reached, the
    /// same connection already exists, or no link can be told for the guest. Inbound
    /// connections have a budget of their own (<see cref="TcpOptions.MaxInboundConnections"/>):
    /// clients of a published port can never use up the guests'
    /// (<see cref="TcpOptions.MaxConnections"/>), nor the guests theirs.
    /// </summary>
    public TcpConnection? OpenToGuest(IpEndpoint guest, IpEndpoint remote, Func<ITcpHostEvents, ITcpHostSocket> attachHost, Instant now)
    {
        if (_stack.LinkOf(guest.Address) is not { } link)
        {
            return null;
        }
        var key = new TcpFlowKey(guest, remote, link.Id);
        if (_inbound >= Options.MaxInboundConnections)
        {
            Counters.InboundLimitReached++;
            return null;
        }
        if (_flows.ContainsKey(key))
        {
            return null;
        }
        var connection = new TcpConnection(this, key, _timers, Options, now, inbound: true);
        _flows[key] = connection;
        _inbound++;
        _stack.FlowStarted?.Invoke(connection.Record);
        connection.OpenToGuest(attachHost(connection), LinkMss(guest.Address), now);
        return connection;
    }

    /// <summary>Whether a connection with these endpoints exists (published ports avoid reusing one).</summary>
    public bool Exists(IpEndpoint guest, IpEndpoint remote) =>
        _stack.LinkOf(guest.Address) is { } link && _flows.ContainsKey(new TcpFlowKey(guest, remote, link.Id));

    /// <summary>
    /// Where the host socket connects, by <see cref="EgressRule"/> and the egress policy: the
    /// gateway means Usernet's own service on that port, if any; null (the SYN gets RST, or
    /// ICMP under egress.tcpRefusal icmp when the policy denied it) for what they refuse.
    /// <paramref name="decision"/> is the policy's, null where it does not apply (the gateway, the loopback rule).
    /// </summary>
    private IpEndpoint? Route(IpEndpoint remote, Instant now, out EgressDecision? decision)
    {
        var gate = _stack.Egress;
        var memo = default(EgressMemo);
        var verdict = EgressRule.Decide(_stack.Options, gate.Policy, gate.Names, EgressProtocols.Tcp, remote, null, now, ref memo, out var target);
        decision = verdict is EgressVerdict.Direct or EgressVerdict.HostLoopback or EgressVerdict.Denied ? memo.Decision : null;
        return verdict switch
        {
            EgressVerdict.Gateway => Connector.ServesGatewayPort(remote.Port) ? remote : null,
            EgressVerdict.Direct or EgressVerdict.HostLoopback => new IpEndpoint(target, remote.Port),
            _ => null,
        };
    }

    /// <summary>
    /// A SYN the egress policy denied is a flow of its own in the flow log (end "refused", one
    /// packet from the guest), so that refusals show there with their rule. One record per
    /// denied SYN, like any connection the guest opens; never made per data packet.
    /// </summary>
    private void LogDenied(TcpFlowKey key, EgressDecision decision, Instant now)
    {
        if (_stack.FlowEnded is not { } ended)
        {
            return;
        }
        var record = new FlowRecord(IpProtocol.Tcp, key.LinkId, key.Guest, key.Remote, inbound: false, now) { Egress = decision };
        record.PacketsFromGuest++;
        ended(record, FlowEnd.Refused);
    }

    /// <summary>ICMP "administratively prohibited" for a SYN the egress policy denies, quoting its ports and sequence number.</summary>
    private void SendProhibited(TcpFlowKey key, SeqNumber synSequence, Instant now)
    {
        Span<byte> head = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(head, key.Guest.Port);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(head[2..], key.Remote.Port);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(head[4..], synSequence.Value);
        var family = key.Guest.Address;
        _stack.SendIcmpError(IcmpError.Prohibited(family), key.Guest.Address, key.Remote.Address, IpProtocol.Tcp, head, _stack.Options.GatewayOf(family), now);
    }

    /// <summary>A segment for no connection gets RST, unless it is a RST itself (RFC 9293 §3.10.7.1).</summary>
    private void RefuseStray(TcpFlowKey key, TcpSegment segment)
    {
        _stack.Counters.Drop(DropReason.TcpNoFlow);
        var flags = segment.Flags;
        if ((flags & TcpFlags.Rst) != 0)
        {
            return;
        }
        if ((flags & TcpFlags.Ack) != 0)
        {
            SendReset(key, new SeqNumber(segment.AcknowledgmentNumber), new SeqNumber(0), withAck: false);
            return;
        }
        int length = segment.Payload.Length + ((flags & TcpFlags.Syn) != 0 ? 1 : 0) + ((flags & TcpFlags.Fin) != 0 ? 1 : 0);
        SendReset(key, new SeqNumber(0), new SeqNumber(segment.SequenceNumber) + length, withAck: true);
    }

    /// <summary>RST to the guest, with the ACK bit and <paramref name="ack"/> when <paramref name="withAck"/>.</summary>
    public void SendReset(TcpFlowKey key, SeqNumber seq, SeqNumber ack, bool withAck)
    {
        Counters.ResetsToGuest++;
        var flags = withAck ? TcpFlags.Rst | TcpFlags.Ack : TcpFlags.Rst;
        Emit(key, flags, seq, ack, 0, 0, TcpSegment.MinHeaderLength);
    }

    /// <summary>The segment size towards the guest: its link's MTU less the IP and TCP headers.</summary>
    public int LinkMss(IpAddress guest) =>
        _stack.MtuTowards(guest) - (guest.IsV4 ? Ipv4Packet.MinHeaderLength : Ipv6Packet.HeaderLength) - TcpSegment.MinHeaderLength;

    public int LinkMss(TcpConnection connection) => LinkMss(connection.Key.Guest.Address);

    /// <summary>Where a data segment's payload goes, for a connection to peek into directly.</summary>
    public Span<byte> PayloadBuffer(TcpConnection connection) => _stack.IpPayload(connection.Key.Guest.Address)[TcpSegment.MinHeaderLength..];

    /// <summary>Sends a segment to the guest whose payload is already in <see cref="PayloadBuffer"/>.</summary>
    public void SendSegment(TcpConnection connection, TcpFlags flags, SeqNumber seq, SeqNumber ack, ushort window, int payloadLength)
    {
        connection.Record.PacketsToGuest++;
        Emit(connection.Key, flags, seq, ack, window, payloadLength, TcpSegment.MinHeaderLength);
    }

    public void SendSyn(TcpConnection connection, TcpFlags flags, SeqNumber seq, SeqNumber ack, ushort window, int mss, byte? windowShift)
    {
        Span<byte> segment = _stack.IpPayload(connection.Key.Guest.Address);
        TcpSegment.WriteSynOptions(segment[TcpSegment.MinHeaderLength..], (ushort)Math.Clamp(mss, 536, ushort.MaxValue), windowShift);
        connection.Record.PacketsToGuest++;
        Emit(connection.Key, flags, seq, ack, window, 0, TcpSegment.MinHeaderLength + SynOptionsLength);
    }

    private void Emit(TcpFlowKey key, TcpFlags flags, SeqNumber seq, SeqNumber ack, ushort window, int payloadLength, int headerLength)
    {
        int length = headerLength + payloadLength;
        bool v4 = key.Guest.Address.IsV4;
        Span<byte> buffer = _stack.IpPayload(key.Guest.Address)[..length];
        if (headerLength == TcpSegment.MinHeaderLength)
        {
            TcpSegment.WriteHeader(buffer, key.Remote.Port, key.Guest.Port, seq.Value, ack.Value, flags, window);
        }
        else
        {
            // The options are already in place: write the fixed header around them.
            Span<byte> options = stackalloc byte[headerLength - TcpSegment.MinHeaderLength];
            buffer[TcpSegment.MinHeaderLength..headerLength].CopyTo(options);
            TcpSegment.WriteHeader(buffer, key.Remote.Port, key.Guest.Port, seq.Value, ack.Value, flags, window, headerLength);
            options.CopyTo(buffer[TcpSegment.MinHeaderLength..]);
        }
        // Partial: summing a 64 KiB payload was a tenth of a bulk transfer's CPU, and the
        // guest's kernel verified it again. The switch completes it where a link needs it whole.
        new TcpSegment(buffer).FillPartialChecksum(v4
            ? InternetChecksum.PseudoHeaderV4(key.Remote.Address.V4, key.Guest.Address.V4, IpProtocol.Tcp, length)
            : InternetChecksum.PseudoHeaderV6(key.Remote.Address.V6, key.Guest.Address.V6, IpProtocol.Tcp, length));
        Counters.SegmentsOut++;
        if (v4)
        {
            _stack.SendIpv4(key.Remote.Address.V4, key.Guest.Address.V4, IpProtocol.Tcp, length, partialChecksumAt: TcpSegment.ChecksumOffset);
        }
        else
        {
            _stack.SendIpv6(key.Remote.Address.V6, key.Guest.Address.V6, IpProtocol.Tcp, length, partialChecksumAt: TcpSegment.ChecksumOffset);
        }
    }

    /// <summary>
    /// ICMP unreachable for a connection the host could not open, quoting what the guest's SYN
    /// looked like: its ports and sequence number, the first 8 bytes of its header.
    /// </summary>
    public void SendUnreachable(TcpConnection connection, TcpHostError error, Instant now)
    {
        var key = connection.Key;
        var family = key.Guest.Address;
        Span<byte> head = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(head, key.Guest.Port);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(head[2..], key.Remote.Port);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(head[4..], connection.GuestInitialSequence.Value);
        var icmp = error == TcpHostError.NetUnreachable ? IcmpError.NetUnreachable(family) : IcmpError.HostUnreachable(family);
        _stack.SendIcmpError(icmp, key.Guest.Address, key.Remote.Address, IpProtocol.Tcp, head, _stack.Options.GatewayOf(family), now);
    }

    /// <summary>
    /// Whether a guest may still send on some connection: it has not sent its FIN. When the
    /// command of `usernet run` exits, its kernel goes on sending what its sockets hold, and
    /// that data must still be carried.
    /// </summary>
    public bool GuestsStillSending =>
        _flows.Values.Any(c => c.State is TcpState.SynReceived or TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2);

    public void QueueAck(TcpConnection connection) => _ackQueue.Add(connection);

    /// <summary>Sends the ACKs gathered during this loop batch.</summary>
    public void FlushAcks(Instant now)
    {
        _ = now;
        // Index loop: an ACK can fail a connection, which may queue nothing new but must not break iteration.
        for (int i = 0; i < _ackQueue.Count; i++)
        {
            _ackQueue[i].FlushAck();
        }
        _ackQueue.Clear();
    }

    /// <summary>Forgets a connection that ended, and tells the flow log how.</summary>
    public void Remove(TcpConnection connection, FlowEnd end)
    {
        if (_flows.TryGetValue(connection.Key, out var current) && current == connection)
        {
            _flows.Remove(connection.Key);
            if (connection.Inbound)
            {
                _inbound--;
            }
        }
        // Last: the table is right even if the flow log fails.
        _stack.FlowEnded?.Invoke(connection.Record, end);
    }

    /// <summary>
    /// A connection sent its <see cref="TcpOptions.SegmentsPerCall"/> and has more: it sends
    /// on at the loop's next turn, after the events of this one. The turn's timer is due at
    /// once, so the loop polls without waiting and then runs it; no unrelated event is needed.
    /// </summary>
    public void Yield(TcpConnection connection, Instant now)
    {
        Counters.Yields++;
        _waiting.Add(connection);
        // Just after now: a timer due at now would run in this turn's own timer pass.
        _yieldedTurn.ScheduleNoLaterThan(new Instant(now.Nanoseconds + 1));
    }

    /// <summary>Gives each yielded connection its next turn, in the order they yielded.</summary>
    private void SendYielded(Instant now)
    {
        // Those that yield again meanwhile wait for the turn after this one.
        (_resuming, _waiting) = (_waiting, _resuming);
        for (int i = 0; i < _resuming.Count; i++)
        {
            _resuming[i].SendMore(now);
        }
        _resuming.Clear();
    }

    /// <summary>Closes every connection of a guest that went away; their host peers see RST.</summary>
    public void AbortGuest(IpAddress guest)
    {
        foreach (var connection in _flows.Values.Where(c => c.Key.Guest.Address == guest).ToList())
        {
            connection.Abort(FlowEnd.Closed);
        }
    }
}
