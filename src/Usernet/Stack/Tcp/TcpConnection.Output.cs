using Usernet.Wire;

namespace Usernet.Stack.Tcp;

internal sealed partial class TcpConnection
{
    /// <summary>Asks the transport for an ACK at the end of this loop batch (one for many segments).</summary>
    private void RequestAck()
    {
        if (!AckPending && State != TcpState.Closed)
        {
            AckPending = true;
            _transport.QueueAck(this);
        }
    }

    /// <summary>Sends an ACK at once, outside the batch: a duplicate ACK must not be merged with others.</summary>
    private void SendAckNow()
    {
        if (State is not (TcpState.Closed or TcpState.HostConnecting or TcpState.SynSent))
        {
            SendSegment(TcpFlags.Ack, _sndNxt, 0);
        }
    }

    /// <summary>Sends the pending ACK, with the window the host socket can take now.</summary>
    public void FlushAck()
    {
        if (AckPending)
        {
            AckPending = false;
            SendAckNow();
        }
    }

    /// <summary>
    /// The window we offer: what the host socket's send buffer can take, but never less than
    /// <see cref="TcpOptions.MinReceiveWindow"/> while the backlog is empty. The floor matters:
    /// Linux grows a socket's send buffer only after a writer has found it full, so a window of
    /// exactly the free space would keep the buffer at its small starting size for good. With
    /// the floor the socket fills, grows, and the backlog takes the rest until it drains. When
    /// the host peer stops reading, the backlog fills, the window falls to zero and the guest's
    /// sender waits; the socket's write-space event reopens it.
    /// </summary>
    private ushort WindowField()
    {
        long space = ReceiveSpace();
        long field = Math.Min(space >> _rcvShift, ushort.MaxValue);
        // Never pull the right edge back (RFC 9293 §3.8.6.2.2): keep what was offered.
        var edge = _rcvNxt + (int)(field << _rcvShift);
        if (edge < _rcvWindowEdge)
        {
            field = Math.Min((_rcvWindowEdge - _rcvNxt) >> _rcvShift, ushort.MaxValue);
            edge = _rcvWindowEdge;
        }
        _rcvWindowEdge = edge;
        return (ushort)field;
    }

    /// <summary>How much guest data we can take now (see <see cref="WindowField"/>); 0 once the guest may send no more.</summary>
    private long ReceiveSpace()
    {
        if (State is not (TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2) || _host is null)
        {
            return 0;
        }
        long free = Math.Max(_host.WritableSpace, _options.MinReceiveWindow);
        return Math.Clamp(free - _backlog.Length, 0, _options.MaxReceiveWindow);
    }

    /// <summary>
    /// Whether a window update would open the window by a full segment at least: smaller
    /// updates only cost the guest a wake-up (receiver-side silly window avoidance, RFC 9293
    /// §3.8.6.2.2). This is also what keeps an incidental write-space event, which epoll
    /// reports with every read event, from sending an ACK that says nothing new.
    /// </summary>
    private bool WindowUpdateWorthSending()
    {
        long offered = _rcvWindowEdge - _rcvNxt;
        return ReceiveSpace() - offered >= _mss;
    }

    /// <summary>Builds and sends a segment whose payload is already in the transport's buffer.</summary>
    private void SendSegment(TcpFlags flags, SeqNumber seq, int payloadLength)
    {
        ushort window = WindowField();
        AckPending = false;
        _transport.SendSegment(this, flags, seq, _rcvNxt, window, payloadLength);
    }

    private void SendSynAck(Instant now)
    {
        StartRttSampleForSyn(now);
        _transport.SendSyn(this, TcpFlags.Syn | TcpFlags.Ack, _iss, _rcvNxt, (ushort)Math.Min(ushort.MaxValue, _options.MaxReceiveWindow),
            _transport.LinkMss(this), _rcvShift > 0 ? (byte)_rcvShift : null);
        _rcvWindowEdge = _rcvNxt + ushort.MaxValue;
        _rtoDeadline = now + _rto;
        RescheduleTimer();
    }

    /// <summary>Our SYN to the guest, opening a connection for a published port.</summary>
    private void SendSyn(Instant now)
    {
        StartRttSampleForSyn(now);
        _transport.SendSyn(this, TcpFlags.Syn, _iss, new SeqNumber(0), (ushort)Math.Min(ushort.MaxValue, _options.MaxReceiveWindow),
            _mss, OurWindowShift);
        _rtoDeadline = now + _rto;
        RescheduleTimer();
    }

    private void StartRttSampleForSyn(Instant now)
    {
        _rttSampling = _retransmits == 0;
        _rttSeq = _iss + 1;
        _rttSent = now;
    }

    /// <summary>RST answering the guest's SYN: the host refused (RFC 9293 §3.10.7.1).</summary>
    private void SendResetForSyn() => _transport.SendReset(Key, new SeqNumber(0), _rcvNxt, withAck: true);

    private void SendReset(SeqNumber seq, bool withAck) => _transport.SendReset(Key, seq, withAck ? _rcvNxt : new SeqNumber(0), withAck);

    /// <summary>
    /// Sends what the host has and the guest's window allows: peeked from the host socket
    /// straight into the frame. At end of stream, the FIN follows the data. At most
    /// <see cref="TcpOptions.SegmentsPerCall"/> segments go in one call; then the connection
    /// yields its turn, and the transport calls <see cref="SendMore"/> on the loop's next one.
    /// </summary>
    private void TrySendData(Instant now)
    {
        for (int sent = 0; CanSend() && _host is not null; sent++)
        {
            if (sent == _options.SegmentsPerCall)
            {
                if (!_yielded)
                {
                    _yielded = true;
                    _transport.Yield(this, now);
                }
                return;
            }
            int inFlight = _sndNxt - _sndUna;
            long room = (long)_sndWnd - inFlight;
            if (room <= 0)
            {
                if (_sndWnd == 0 && inFlight == 0 && _persistDeadline == Instant.Never)
                {
                    // A zero window: probe it, in case its reopening is lost (RFC 9293 §3.8.6.1).
                    _persistDeadline = now + _rto;
                    RescheduleTimer();
                }
                return;
            }
            if (!_hostReadable && !_hostEof)
            {
                return;
            }
            int length = (int)Math.Min(room, _mss);
            var buffer = _transport.PayloadBuffer(this)[..length];
            int n = _host.Peek(inFlight, buffer);
            if (n > 0)
            {
                // The last bytes before the host's FIN carry the FIN: a closing connection costs
                // the guest one segment (and its ACK) fewer. n < length leaves the FIN in the window.
                if (n < length && _host.EndsAt(inFlight + n))
                {
                    _hostEof = true;
                    SendData(n, now, withFin: true);
                    return;
                }
                SendData(n, now);
                continue;
            }
            if (n == 0)
            {
                _hostEof = true;
                SendFin(now);
                return;
            }
            if (n == ITcpHostSocket.Failed)
            {
                OnHostFailed(_host.Error, now);
                return;
            }
            _hostReadable = false;
            return;
        }
    }

    /// <summary>The transport gives back the turn this connection yielded: it sends on from where it stopped.</summary>
    public void SendMore(Instant now)
    {
        _yielded = false;
        if (State != TcpState.Closed)
        {
            TrySendData(now);
        }
    }

    private bool CanSend() =>
        !_finSent && State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck;

    private void SendData(int length, Instant now, bool withFin = false)
    {
        SendSegment(DataFlags(withFin), _sndNxt, length);
        if (!_rttSampling && _retransmits == 0)
        {
            _rttSampling = true;
            _rttSeq = _sndNxt + length;
            _rttSent = now;
        }
        _sndNxt += length;
        _transport.Counters.BytesToGuest += length;
        if (_sndNxt > _sndMax)
        {
            Record.BytesToGuest += _sndNxt - _sndMax;
            _sndMax = _sndNxt;
        }
        if (withFin)
        {
            FinSent(now);
        }
        else if (_rtoDeadline == Instant.Never)
        {
            _rtoDeadline = now + _rto;
            RescheduleTimer();
        }
    }

    private static TcpFlags DataFlags(bool withFin) => withFin ? TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Fin : TcpFlags.Ack | TcpFlags.Psh;

    /// <summary>The host peer closed its side: FIN after the last byte (a resent FIN keeps its state).</summary>
    private void SendFin(Instant now)
    {
        SendSegment(TcpFlags.Fin | TcpFlags.Ack, _sndNxt, 0);
        FinSent(now);
    }

    /// <summary>A FIN left at <see cref="_sndNxt"/>, alone or after data: its sequence number and the state it moves to.</summary>
    private void FinSent(Instant now)
    {
        _finSeq = _sndNxt;
        _finSent = true;
        _sndNxt += 1;
        State = State switch
        {
            TcpState.Established => TcpState.FinWait1,
            TcpState.CloseWait => TcpState.LastAck,
            _ => State,
        };
        if (_rtoDeadline == Instant.Never)
        {
            _rtoDeadline = now + _rto;
        }
        RescheduleTimer();
    }

    /// <summary>Sends the oldest unacknowledged segment again, then carries on from where it was.</summary>
    private void RetransmitFirst(Instant now)
    {
        if (_host is null || _sndNxt == _sndUna)
        {
            return;
        }
        _transport.Counters.Retransmits++;
        _rttSampling = false;
        int unacked = _sndNxt - _sndUna;
        bool onlyFin = _finSent && unacked == 1;
        if (onlyFin)
        {
            SendSegment(TcpFlags.Fin | TcpFlags.Ack, _finSeq, 0);
            return;
        }
        int dataUnacked = _finSent ? unacked - 1 : unacked;
        int length = Math.Min(_mss, dataUnacked);
        int n = _host.Peek(0, _transport.PayloadBuffer(this)[..length]);
        if (n > 0)
        {
            // The last data goes again with the FIN that followed it, as it went the first time.
            SendSegment(DataFlags(withFin: _finSent && n == dataUnacked), _sndUna, n);
        }
        else if (n == ITcpHostSocket.Failed)
        {
            OnHostFailed(_host.Error, now);
        }
    }

    /// <summary>After a timeout, everything unacknowledged is sent again from the oldest byte (go-back-N).</summary>
    private void RetransmitAll(Instant now)
    {
        _transport.Counters.Retransmits++;
        _rttSampling = false;
        _sndNxt = _sndUna;
        _finSent = false;
        _hostReadable = true;
        TrySendData(now);
    }
}
