using Usernet.Wire;

namespace Usernet.Stack.Tcp;

internal sealed partial class TcpConnection
{
    /// <summary>
    /// Moves the one timer to the earliest deadline. Moving it later costs nothing (the loop's
    /// timer re-queues lazily), so this runs after every segment. An established connection
    /// with nothing in flight has only its keepalive deadline: no timer ever ends a live but
    /// idle connection; only a peer that stops answering probes does.
    /// </summary>
    private void RescheduleTimer()
    {
        if (State == TcpState.Closed)
        {
            _timer.Cancel();
            return;
        }
        var due = Instant.Min(_rtoDeadline, Instant.Min(_persistDeadline, _stateDeadline));
        if (KeepaliveApplies)
        {
            due = Instant.Min(due, NextKeepalive);
        }
        _timer.Schedule(due);
    }

    private bool KeepaliveApplies =>
        State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait2 && _sndNxt == _sndUna;

    private Instant NextKeepalive => _lastHeard + _options.KeepaliveIdle + _options.KeepaliveInterval * _keepaliveProbes;

    private void OnTimer(Instant now)
    {
        if (State == TcpState.Closed)
        {
            return;
        }
        if (_stateDeadline <= now)
        {
            _stateDeadline = Instant.Never;
            if (State == TcpState.HostConnecting)
            {
                FailConnect(TcpHostError.TimedOut, now);
                return;
            }
            if (State == TcpState.TimeWait)
            {
                // Guest data we acknowledged may still wait for the host peer to read: then
                // the connection ends when it is written (OnHostWritable) or the socket fails.
                if (_backlog.Length == 0)
                {
                    Terminate(resetHost: false, FlowEnd.Fin);
                }
                return;
            }
        }
        if (_rtoDeadline <= now)
        {
            OnRetransmitTimeout(now);
            if (State == TcpState.Closed)
            {
                return;
            }
        }
        if (_persistDeadline <= now)
        {
            OnPersistTimeout(now);
        }
        if (KeepaliveApplies && NextKeepalive <= now)
        {
            OnKeepaliveTimeout();
            if (State == TcpState.Closed)
            {
                return;
            }
        }
        RescheduleTimer();
    }

    /// <summary>RFC 6298 §5: resend, back off, and give up after too many tries.</summary>
    private void OnRetransmitTimeout(Instant now)
    {
        _rtoDeadline = Instant.Never;
        if (_sndNxt == _sndUna && State != TcpState.SynReceived && State != TcpState.SynSent)
        {
            return;
        }
        _retransmits++;
        if (_retransmits > _options.MaxRetransmits)
        {
            // The guest stopped acknowledging: timed out, as Linux's ETIMEDOUT.
            Abort(FlowEnd.Expired);
            return;
        }
        _rto = TimeSpan.FromTicks(Math.Min(_rto.Ticks * 2, _options.MaxRto.Ticks));
        switch (State)
        {
            case TcpState.SynReceived:
                _transport.Counters.Retransmits++;
                SendSynAck(now);
                return;
            case TcpState.SynSent:
                _transport.Counters.Retransmits++;
                SendSyn(now);
                return;
        }
        RetransmitAll(now);
        _rtoDeadline = _sndNxt > _sndUna ? now + _rto : Instant.Never;
    }

    /// <summary>Probes a zero window with an old sequence number, which the guest must answer with its window.</summary>
    private void OnPersistTimeout(Instant now)
    {
        _persistDeadline = Instant.Never;
        if (_sndWnd != 0 || _finSent)
        {
            return;
        }
        _transport.Counters.WindowProbes++;
        _persistProbes++;
        SendSegment(TcpFlags.Ack, _sndUna - 1, 0);
        var backoff = TimeSpan.FromTicks(Math.Min(_rto.Ticks << Math.Min(_persistProbes, 10), _options.MaxRto.Ticks));
        _persistDeadline = now + backoff;
    }

    /// <summary>
    /// RFC 1122 §4.2.3.6: an idle guest is asked whether it is still there; one that answers
    /// none of the probes is gone, and its connection is closed (the host peer gets RST).
    /// </summary>
    private void OnKeepaliveTimeout()
    {
        if (_keepaliveProbes >= _options.KeepaliveCount)
        {
            _transport.Counters.KeepaliveTimeouts++;
            Terminate(resetHost: true, FlowEnd.Expired);
            return;
        }
        _keepaliveProbes++;
        _transport.Counters.KeepaliveProbes++;
        SendSegment(TcpFlags.Ack, _sndUna - 1, 0);
    }

    private void EnterTimeWait(Instant now)
    {
        State = TcpState.TimeWait;
        _rtoDeadline = Instant.Never;
        _persistDeadline = Instant.Never;
        _stateDeadline = now + _options.TimeWait;
        _transport.Counters.Closed++;
        // Both directions are closed: the host socket has nothing more to do, unless guest
        // data we acknowledged still waits in the backlog (it closes once that is written).
        if (_backlog.Length == 0)
        {
            CloseHost();
        }
        RescheduleTimer();
    }

    private void CloseHost()
    {
        var host = _host;
        _host = null;
        host?.Close(reset: false);
    }

    /// <summary>RFC 6298 §2: smoothed round-trip time and its variance give the timeout.</summary>
    private void SampleRtt(SeqNumber ack, Instant now)
    {
        if (!_rttSampling || ack < _rttSeq)
        {
            if (!_rttValid)
            {
                _rto = InitialRto;
            }
            return;
        }
        _rttSampling = false;
        var sample = now - _rttSent;
        if (!_rttValid)
        {
            _srtt = sample;
            _rttVar = sample / 2;
            _rttValid = true;
        }
        else
        {
            var error = (_srtt - sample).Duration();
            _rttVar = (_rttVar * 3 + error) / 4;
            _srtt = (_srtt * 7 + sample) / 8;
        }
        var rto = _srtt + TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(1).Ticks, (_rttVar * 4).Ticks));
        _rto = TimeSpan.FromTicks(Math.Clamp(rto.Ticks, _options.MinRto.Ticks, _options.MaxRto.Ticks));
    }
}
