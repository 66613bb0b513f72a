using Usernet.Wire;

namespace Usernet.Stack.Tcp;

internal sealed partial class TcpConnection
{
    /// <summary>A segment from the guest for this connection (RFC 9293 §3.10.7).</summary>
    public void OnSegment(TcpSegment segment, Instant now)
    {
        _lastHeard = now;
        _keepaliveProbes = 0;
        var flags = segment.Flags;
        var seq = new SeqNumber(segment.SequenceNumber);
        switch (State)
        {
            case TcpState.HostConnecting:
                if ((flags & TcpFlags.Rst) != 0)
                {
                    _transport.Counters.ResetsFromGuest++;
                    Terminate(resetHost: true, FlowEnd.Reset);
                }
                // A retransmitted SYN: the connect is under way, and it opens no second socket.
                return;
            case TcpState.SynReceived:
                if (OnSegmentInSynReceived(segment, seq, now))
                {
                    return;
                }
                break;
            case TcpState.SynSent:
                OnSegmentInSynSent(segment, now);
                return;
            case TcpState.Closed:
                return;
        }
        OnSynchronizedSegment(segment, seq, now);
        RescheduleTimer();
    }

    /// <summary>Returns true when the segment is fully handled; false to go on as synchronized.</summary>
    private bool OnSegmentInSynReceived(TcpSegment segment, SeqNumber seq, Instant now)
    {
        var flags = segment.Flags;
        if ((flags & TcpFlags.Rst) != 0)
        {
            if (seq == _rcvNxt)
            {
                _transport.Counters.ResetsFromGuest++;
                Terminate(resetHost: true, FlowEnd.Reset);
            }
            return true;
        }
        if ((flags & TcpFlags.Syn) != 0)
        {
            // Our SYN-ACK was lost: send it again.
            if (seq + 1 == _rcvNxt)
            {
                SendSynAck(now);
            }
            return true;
        }
        if ((flags & TcpFlags.Ack) == 0)
        {
            return true;
        }
        if (new SeqNumber(segment.AcknowledgmentNumber) != _iss + 1)
        {
            SendReset(new SeqNumber(segment.AcknowledgmentNumber), withAck: false);
            return true;
        }
        State = TcpState.Established;
        _sndUna = _iss + 1;
        _retransmits = 0;
        _rtoDeadline = Instant.Never;
        SampleRtt(_iss + 1, now);
        _transport.Counters.Opened++;
        // The host may have sent already (a server banner): it is in the socket, waiting.
        _hostReadable = true;
        return false;
    }

    private void OnSynchronizedSegment(TcpSegment segment, SeqNumber seq, Instant now)
    {
        var flags = segment.Flags;
        int length = segment.Payload.Length;
        int segmentLength = length + ((flags & TcpFlags.Fin) != 0 ? 1 : 0);

        if (!IsAcceptable(seq, segmentLength))
        {
            // A keepalive or zero-window probe comes one below the window with no data
            // (RFC 9293 §3.8.4, §3.8.6.1): no error, but it too must get an ACK with our window.
            bool probe = segmentLength == 0 && seq == _rcvNxt - 1 && (flags & TcpFlags.Rst) == 0;
            if (!probe)
            {
                _transport.Counters.OutOfWindow++;
            }
            if ((flags & TcpFlags.Rst) == 0)
            {
                RequestAck();
            }
            return;
        }
        if ((flags & TcpFlags.Rst) != 0)
        {
            OnReset(seq);
            return;
        }
        if ((flags & TcpFlags.Syn) != 0)
        {
            // RFC 5961 §4: a SYN on a synchronized connection gets a challenge ACK, nothing more.
            _transport.Counters.ChallengeAcks++;
            RequestAck();
            return;
        }
        if ((flags & TcpFlags.Ack) == 0)
        {
            return;
        }
        if (!OnAck(segment, length, now))
        {
            return;
        }
        if (State == TcpState.Closed)
        {
            return;
        }
        if (length > 0)
        {
            OnData(segment.Payload, seq);
        }
        if ((flags & TcpFlags.Fin) != 0)
        {
            if (seq + length == _rcvNxt && _host is not null && !GuestFinReceived)
            {
                OnGuestFin();
            }
            else if (GuestFinReceived)
            {
                // A retransmitted FIN: our ACK of it was lost (in TIME-WAIT, the only thing that comes).
                RequestAck();
            }
        }
        TrySendData(now);
    }

    /// <summary>RFC 9293 §3.10.7.4: does any of the segment fall in our receive window?</summary>
    private bool IsAcceptable(SeqNumber seq, int segmentLength)
    {
        uint window = (uint)Math.Max(_rcvWindowEdge - _rcvNxt, 1);
        if (segmentLength == 0)
        {
            return seq >= _rcvNxt && seq <= _rcvNxt + window;
        }
        var end = seq + segmentLength - 1;
        return (seq >= _rcvNxt && seq < _rcvNxt + window) || (end >= _rcvNxt && end < _rcvNxt + window) || seq < _rcvNxt;
    }

    /// <summary>RFC 5961 §3: only an exact RST ends the connection; a near one gets a challenge ACK.</summary>
    private void OnReset(SeqNumber seq)
    {
        if (seq == _rcvNxt)
        {
            _transport.Counters.ResetsFromGuest++;
            // A guest RST becomes a host RST.
            Terminate(resetHost: true, FlowEnd.Reset);
            return;
        }
        _transport.Counters.ChallengeAcks++;
        RequestAck();
    }

    /// <summary>Processes the acknowledgment field. Returns false when the segment is to be dropped.</summary>
    private bool OnAck(TcpSegment segment, int length, Instant now)
    {
        var ack = new SeqNumber(segment.AcknowledgmentNumber);
        if (ack > _sndNxt)
        {
            // It acknowledges what we never sent (RFC 9293 §3.10.7.4, fifth check).
            RequestAck();
            return false;
        }
        uint window = (uint)segment.Window << _sndShift;
        if (ack < _sndUna)
        {
            return true;
        }
        int acked = ack - _sndUna;
        if (acked > 0)
        {
            OnNewlyAcked(ack, acked, now);
        }
        else if (length == 0 && (segment.Flags & TcpFlags.Fin) == 0 && window == _sndWnd && _sndNxt > _sndUna)
        {
            OnDuplicateAck(now);
        }
        if (window > 0 && _sndWnd == 0)
        {
            _persistDeadline = Instant.Never;
            _persistProbes = 0;
        }
        _sndWnd = window;
        return State != TcpState.Closed;
    }

    private void OnNewlyAcked(SeqNumber ack, int acked, Instant now)
    {
        bool finAcked = _finSent && ack == _finSeq + 1;
        int dataAcked = finAcked ? acked - 1 : acked;
        if (dataAcked > 0)
        {
            _host?.Discard(dataAcked);
        }
        _sndUna = ack;
        _dupAcks = 0;
        _retransmits = 0;
        SampleRtt(ack, now);
        _rtoDeadline = _sndNxt > _sndUna ? now + _rto : Instant.Never;
        if (finAcked)
        {
            OnOurFinAcked(now);
        }
    }

    private void OnOurFinAcked(Instant now)
    {
        switch (State)
        {
            case TcpState.FinWait1:
                State = TcpState.FinWait2;
                break;
            case TcpState.Closing:
                EnterTimeWait(now);
                break;
            case TcpState.LastAck:
                if (_backlog.Length > 0)
                {
                    // Guest data we acknowledged still waits for the host socket: linger as
                    // in TIME-WAIT until it is written, rather than drop it with the socket.
                    EnterTimeWait(now);
                    break;
                }
                _transport.Counters.Closed++;
                Terminate(resetHost: false, FlowEnd.Fin);
                break;
        }
    }

    /// <summary>Three duplicate ACKs: the guest lost a segment; send it again (RFC 5681 §3.2).</summary>
    private void OnDuplicateAck(Instant now)
    {
        _dupAcks++;
        if (_dupAcks != 3)
        {
            return;
        }
        _transport.Counters.FastRetransmits++;
        RetransmitFirst(now);
    }

    /// <summary>
    /// Guest data at the next expected sequence goes straight into the host socket; data past a
    /// hole waits in <see cref="_reorder"/> until the hole fills.
    /// </summary>
    private void OnData(Span<byte> payload, SeqNumber seq)
    {
        if (State is not (TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2))
        {
            return;
        }
        if (seq > _rcvNxt)
        {
            // A hole. Each out-of-order segment still gets its own immediate duplicate ACK
            // (RFC 5681 §4.2): if the hole is a loss, three of them start the guest's fast
            // retransmit instead of its timer.
            _transport.Counters.OutOfOrder++;
            if (_reorder.Hold(payload, seq))
            {
                _transport.Counters.OutOfOrderHeld++;
            }
            SendAckNow();
            return;
        }
        Accept(payload, seq);
        while (_reorder.Count > 0 && _reorder.TryTakeReady(_rcvNxt, out var heldSeq, out byte[] held, out int length))
        {
            if (State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)
            {
                Accept(held.AsSpan(0, length), heldSeq);
            }
            _reorder.Return(held, length);
        }
    }

    /// <summary>Data that starts at or before the next expected sequence.</summary>
    private void Accept(Span<byte> payload, SeqNumber seq)
    {
        int skip = _rcvNxt - seq;
        if (skip >= payload.Length)
        {
            RequestAck();
            return;
        }
        var fresh = payload[skip..];
        // Never take more than the window we offered, whatever the guest sends.
        int room = Math.Max(_rcvWindowEdge - _rcvNxt, 0);
        if (fresh.Length > room)
        {
            _transport.Counters.OutOfWindow++;
            fresh = fresh[..room];
        }
        int taken = 0;
        if (_backlog.Length == 0)
        {
            taken = fresh.Length == 0 ? 0 : _host!.Write(fresh);
            if (taken == ITcpHostSocket.Failed)
            {
                OnHostFailed(_host!.Error, _lastHeard);
                return;
            }
        }
        if (taken < fresh.Length)
        {
            // Inside the window we offered: keep it rather than make the guest resend it.
            _transport.Counters.PartialWrites++;
            taken += _backlog.Append(fresh[taken..]);
        }
        _rcvNxt += taken;
        _transport.Counters.BytesFromGuest += taken;
        Record.BytesFromGuest += taken;
        if (taken < fresh.Length)
        {
            SendAckNow();
            return;
        }
        RequestAck();
    }

    private bool GuestFinReceived => State is TcpState.CloseWait or TcpState.Closing or TcpState.LastAck or TcpState.TimeWait;

    /// <summary>The guest will send no more: pass the half-close on to the host peer.</summary>
    private void OnGuestFin()
    {
        _rcvNxt += 1;
        if (_backlog.Length > 0)
        {
            _shutdownAfterBacklog = true;
        }
        else
        {
            _host!.ShutdownWrite();
        }
        switch (State)
        {
            case TcpState.Established:
                State = TcpState.CloseWait;
                break;
            case TcpState.FinWait1:
                State = TcpState.Closing;
                break;
            case TcpState.FinWait2:
                EnterTimeWait(_lastHeard);
                break;
        }
        RequestAck();
    }

    /// <summary>Port forwarding: our SYN was answered.</summary>
    private void OnSegmentInSynSent(TcpSegment segment, Instant now)
    {
        var flags = segment.Flags;
        var ack = new SeqNumber(segment.AcknowledgmentNumber);
        bool ackOk = (flags & TcpFlags.Ack) != 0 && ack == _iss + 1;
        if ((flags & TcpFlags.Rst) != 0)
        {
            if (ackOk)
            {
                _transport.Counters.ResetsFromGuest++;
                Terminate(resetHost: true, FlowEnd.Reset);
            }
            return;
        }
        if ((flags & TcpFlags.Ack) != 0 && !ackOk)
        {
            // An ACK for something else: a guest that still holds an earlier connection of these
            // endpoints (TIME-WAIT) acknowledges that one. RFC 9293 §3.10.7.3: a reset with the
            // sequence number it acknowledged ends that connection, and our SYN's next
            // retransmission opens the new one.
            SendReset(ack, withAck: false);
            return;
        }
        if ((flags & TcpFlags.Syn) == 0)
        {
            return;
        }
        if (!segment.TryReadSynOptions(out var options))
        {
            return;
        }
        _rcvNxt = new SeqNumber(segment.SequenceNumber) + 1;
        // The window we offered in our SYN: the edge must start here, or the first data would
        // be judged against a stale edge (wrapping comparisons make that look like no window).
        _rcvWindowEdge = _rcvNxt + ushort.MaxValue;
        _mss = SendMss(options.Mss, _mss);
        if (options.WindowScale is { } shift)
        {
            _sndShift = shift;
        }
        else
        {
            _rcvShift = 0;
        }
        // A SYN-ACK's window is never scaled (RFC 7323 §2.2); shifting it let us send up to
        // 2^14 times what the guest offered before its first ACK corrected it.
        _sndWnd = segment.Window;
        _sndUna = _iss + 1;
        State = TcpState.Established;
        _host!.OnGuestAccepted(now);
        _rtoDeadline = Instant.Never;
        _retransmits = 0;
        SampleRtt(_iss + 1, now);
        _transport.Counters.Opened++;
        _hostReadable = true;
        RequestAck();
        TrySendData(now);
        RescheduleTimer();
    }
}
