using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Stack.Tcp;

/// <summary>
/// One guest connection, translated to one host socket. Towards the guest it is a TCP end
/// (RFC 9293) with MSS and window-scale negotiation, retransmission (RFC 6298), fast
/// retransmit, zero-window probing and keepalive. Its data is never copied into a buffer of
/// ours: guest data goes straight from the frame into the host socket, and host data stays in
/// the socket until the guest acknowledges it (<see cref="ITcpHostSocket.Peek"/>). A connection
/// therefore holds no memory beyond this object, whatever its peers do.
/// </summary>
internal sealed partial class TcpConnection : ITcpHostEvents
{
    /// <summary>Our window-scale shift, offered when the guest offers its own (RFC 7323 §2.2).</summary>
    public const int OurWindowShift = 7;

    /// <summary>
    /// The smallest segment we send an IPv4 guest, whatever MSS it advertises: 536, what TCP
    /// assumes of a peer that sends no MSS option (RFC 9293 §3.7.1, MUST-15; RFC 6691 §2),
    /// and what every IPv4 host can take (RFC 1122 §3.3.2: a datagram of 576 bytes). An MSS
    /// of 1 would turn every byte into a frame and a system call, and one guest could keep the
    /// loop busy for minutes. Linux floors a peer's MSS too, lower (tcp_min_snd_mss, 48), as a
    /// general-purpose stack on any link must; here the link is ours, at least 576 bytes.
    /// </summary>
    public const int MinMssV4 = 536;

    /// <summary>The same for IPv6: 1280, the least MTU of any IPv6 link (RFC 8200 §5), less 60 (RFC 9293 §3.7.1).</summary>
    public const int MinMssV6 = 1220;

    private static readonly TimeSpan InitialRto = TimeSpan.FromSeconds(1);

    private readonly TcpTransport _transport;
    private readonly TcpOptions _options;
    private readonly LoopTimer _timer;
    private ITcpHostSocket? _host;

    // The guest-to-host direction (we receive).
    private SeqNumber _rcvNxt;
    private int _rcvShift;
    private SeqNumber _rcvWindowEdge;
    private readonly GuestDataBacklog _backlog;
    private readonly ReorderQueue _reorder;
    private bool _shutdownAfterBacklog;

    // The host-to-guest direction (we send).
    private SeqNumber _iss;
    private SeqNumber _sndUna;
    private SeqNumber _sndNxt;

    /// <summary>The highest sequence number sent so far: data below it that goes again is a retransmission, not new bytes for the flow log.</summary>
    private SeqNumber _sndMax;
    private uint _sndWnd;
    private int _sndShift;
    private int _mss;
    private bool _hostReadable;
    private bool _hostEof;
    private bool _finSent;
    private SeqNumber _finSeq;
    private int _dupAcks;

    // Timers and round-trip estimation (RFC 6298).
    private Instant _rtoDeadline = Instant.Never;
    private Instant _persistDeadline = Instant.Never;
    private Instant _stateDeadline = Instant.Never;
    private Instant _lastHeard;
    private TimeSpan _rto = InitialRto;
    private TimeSpan _srtt;
    private TimeSpan _rttVar;
    private bool _rttValid;
    private bool _rttSampling;
    private SeqNumber _rttSeq;
    private Instant _rttSent;
    private int _retransmits;
    private int _persistProbes;
    private int _keepaliveProbes;

    /// <summary>Whether this connection waits in the transport's queue to send the rest of what it may (see <see cref="TcpOptions.SegmentsPerCall"/>).</summary>
    private bool _yielded;

    public TcpConnection(TcpTransport transport, TcpFlowKey key, TimerQueue timers, TcpOptions options, Instant opened, bool inbound = false)
    {
        _transport = transport;
        _options = options;
        Key = key;
        _timer = timers.Create(OnTimer);
        _backlog = new GuestDataBacklog(transport.Backlog);
        _reorder = new ReorderQueue(transport.Backlog);
        Record = new FlowRecord(IpProtocol.Tcp, key.LinkId, key.Guest, key.Remote, inbound, opened);
    }

    public TcpFlowKey Key { get; }

    /// <summary>What the connection carried, for the flow log.</summary>
    public FlowRecord Record { get; }

    /// <summary>Opened by a remote client through a published port, rather than by the guest.</summary>
    public bool Inbound => Record.Inbound;

    /// <summary>The sequence number of the guest's SYN.</summary>
    public SeqNumber GuestInitialSequence { get; private set; }

    public TcpState State { get; private set; } = TcpState.Closed;

    /// <summary>An ACK is owed to the guest; the transport sends it once per loop batch.</summary>
    public bool AckPending { get; private set; }

    public override string ToString() => $"{Key} {State}";

    /// <summary>A line of state for the control API's connection list (like ss).</summary>
    public string Describe() =>
        $"{State} unacked={_sndNxt - _sndUna} window={_sndWnd} hostReadable={_hostReadable} hostEof={_hostEof} " +
        $"finSent={_finSent} backlog={_backlog.Length} retransmits={_retransmits} ackPending={AckPending} " +
        $"rto={_rtoDeadline} timer={_timer.Due} rcvNxt={_rcvNxt} sndUna={_sndUna} sndNxt={_sndNxt}";

    /// <summary>
    /// Starts a guest-opened connection from its SYN: the host socket connects first, and the
    /// guest hears nothing until it does (the vpnkit contract: no half-open connections).
    /// </summary>
    public bool OpenFromGuest(TcpSegment syn, TcpSynOptions synOptions, IpEndpoint hostDestination, int linkMss, Instant now)
    {
        GuestInitialSequence = new SeqNumber(syn.SequenceNumber);
        _rcvNxt = GuestInitialSequence + 1;
        _rcvWindowEdge = _rcvNxt + ushort.MaxValue;
        _mss = SendMss(synOptions.Mss, linkMss);
        if (synOptions.WindowScale is { } shift)
        {
            _sndShift = shift;
            _rcvShift = OurWindowShift;
        }
        _sndWnd = syn.Window;
        _lastHeard = now;
        State = TcpState.HostConnecting;
        _host = _transport.Connector.Connect(Key, hostDestination, this, out var error);
        if (_host is null)
        {
            FailConnect(error, now);
            return false;
        }
        _stateDeadline = now + _options.ConnectTimeout;
        RescheduleTimer();
        return true;
    }

    /// <summary>
    /// Starts a connection into the guest for a host socket already accepted (a published
    /// port): we send the SYN, from <see cref="Key"/>.Remote to <see cref="Key"/>.Guest.
    /// </summary>
    public void OpenToGuest(ITcpHostSocket host, int linkMss, Instant now)
    {
        _host = host;
        _iss = InitialSequence.For(Key, now);
        _sndUna = _iss;
        _sndNxt = _iss + 1;
        _sndMax = _sndNxt;
        _mss = linkMss;
        _rcvShift = OurWindowShift;
        _lastHeard = now;
        State = TcpState.SynSent;
        SendSyn(now);
    }

    /// <summary>
    /// The segment size towards the guest: what it advertised, raised to <see cref="MinMssV4"/>
    /// or <see cref="MinMssV6"/> (which are also what a SYN without the option means, RFC 9293
    /// §3.7.1), and within the link's.
    /// </summary>
    private int SendMss(int? advertised, int linkMss)
    {
        int floor = Key.Guest.Address.IsV4 ? MinMssV4 : MinMssV6;
        if (advertised < floor)
        {
            _transport.Counters.MssRaised++;
        }
        return Math.Min(Math.Max(advertised ?? floor, floor), linkMss);
    }

    public void OnHostConnected(Instant now)
    {
        if (State != TcpState.HostConnecting)
        {
            return;
        }
        _iss = InitialSequence.For(Key, now);
        _sndUna = _iss;
        _sndNxt = _iss + 1;
        _sndMax = _sndNxt;
        State = TcpState.SynReceived;
        _stateDeadline = Instant.Never;
        SendSynAck(now);
    }

    public void OnHostConnectFailed(TcpHostError error, Instant now)
    {
        if (State == TcpState.HostConnecting)
        {
            FailConnect(error, now);
        }
    }

    /// <summary>The host refused or could not be reached: the guest hears RST or ICMP unreachable.</summary>
    private void FailConnect(TcpHostError error, Instant now)
    {
        var counters = _transport.Counters;
        switch (error)
        {
            case TcpHostError.NetUnreachable:
            case TcpHostError.HostUnreachable:
                counters.Unreachable++;
                _transport.SendUnreachable(this, error, now);
                break;
            case TcpHostError.TimedOut:
                counters.ConnectTimeouts++;
                SendResetForSyn();
                break;
            default:
                counters.Refused++;
                SendResetForSyn();
                break;
        }
        Terminate(resetHost: true, FlowEnd.Refused);
    }

    public void OnHostReadable(Instant now)
    {
        _hostReadable = true;
        TrySendData(now);
    }

    public void OnHostWritable(Instant now)
    {
        if (_host is null)
        {
            return;
        }
        if (_backlog.Length > 0)
        {
            if (!_backlog.Drain(_host))
            {
                OnHostFailed(_host.Error, now);
                return;
            }
            if (_backlog.Length == 0 && _shutdownAfterBacklog)
            {
                _host.ShutdownWrite();
            }
            if (_backlog.Length == 0 && State == TcpState.TimeWait)
            {
                // The last of the guest's data is written: both directions are done now. The
                // connection itself ends with TIME-WAIT, or at once if that is over already.
                if (_stateDeadline == Instant.Never)
                {
                    Terminate(resetHost: false, FlowEnd.Fin);
                }
                else
                {
                    CloseHost();
                }
                return;
            }
        }
        // The guest may have been told the window is (nearly) shut: reopen it now.
        if (WindowUpdateWorthSending())
        {
            RequestAck();
        }
    }

    public void OnHostFailed(TcpHostError error, Instant now)
    {
        if (State == TcpState.Closed)
        {
            return;
        }
        if (State == TcpState.HostConnecting)
        {
            FailConnect(error, now);
            return;
        }
        // A host RST becomes a guest RST.
        _transport.Counters.ResetsFromHost++;
        SendReset(_sndNxt, withAck: true);
        Terminate(resetHost: false, FlowEnd.Reset);
    }

    /// <summary>Ends the connection: the socket closes, the timer stops, the table forgets it (and the flow log hears <paramref name="end"/>).</summary>
    private void Terminate(bool resetHost, FlowEnd end)
    {
        if (State == TcpState.Closed && _host is null)
        {
            return;
        }
        State = TcpState.Closed;
        _timer.Cancel();
        _backlog.Clear();
        _reorder.Clear();
        var host = _host;
        _host = null;
        host?.Close(resetHost);
        _transport.Remove(this, end);
    }

    /// <summary>
    /// Ends a connection the guest or the transport gave up on. The guest hears RST only where
    /// its end is synchronized and open (RFC 9293 §3.10.5, Linux's tcp_need_reset): not for a
    /// SYN it never answered, nor in CLOSING, LAST-ACK or TIME-WAIT, where it has closed.
    /// TIME-WAIT matters most: a new SYN on the same ports replaces such a connection, and the
    /// RST would reach the guest's new attempt.
    /// </summary>
    public void Abort(FlowEnd end = FlowEnd.Reset)
    {
        if (State is TcpState.SynReceived or TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.CloseWait)
        {
            SendReset(_sndNxt, withAck: true);
        }
        Terminate(resetHost: true, end);
    }

    /// <summary>
    /// Ends this connection for a new SYN on the same ports (see <see cref="CanBeReplacedBy"/>).
    /// The guest has already left it, so it gets no RST: one carrying the old sequence numbers
    /// would only reach the new connection's SYN-SENT, which must ignore it. A host socket in
    /// TIME-WAIT is closed gracefully, since its kernel may still be sending the guest's last
    /// bytes; one still being opened for an abandoned attempt is reset.
    /// </summary>
    public void Replace() => Terminate(resetHost: State != TcpState.TimeWait, State == TcpState.TimeWait ? FlowEnd.Fin : FlowEnd.Reset);

    /// <summary>A TIME-WAIT or closed connection yields to a new SYN on the same ports (RFC 6191).</summary>
    public bool CanBeReplacedBy(TcpSegment syn) =>
        State is TcpState.TimeWait or TcpState.Closed
        || (State is TcpState.SynReceived or TcpState.HostConnecting && new SeqNumber(syn.SequenceNumber) + 1 != _rcvNxt);
}
