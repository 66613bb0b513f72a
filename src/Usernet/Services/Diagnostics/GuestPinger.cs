using Usernet.Platform;
using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Services.Diagnostics;

/// <summary>
/// <c>usernet ping</c>: echo requests from the gateway to a guest, or to an address behind one,
/// through the stack, as ping(8) sends them: one a second (or at <c>interval</c>), then a wait
/// for the last reply. Each run has an identifier of its own. Runs on the loop thread.
/// </summary>
internal sealed class GuestPinger
{
    /// <summary>Runs at once: a bound on what the control API can keep the loop doing.</summary>
    public const int MaxRuns = 16;

    public const int DataLength = 56;

    private readonly TimerQueue _timers;
    private readonly NetworkStack _stack;
    private readonly Dictionary<ushort, Run> _runs = new();
    private ushort _nextIdentifier = (ushort)Random.Shared.Next();

    public GuestPinger(TimerQueue timers, NetworkStack stack)
    {
        _timers = timers;
        _stack = stack;
        stack.EchoReplyReceived = OnReply;
    }

    /// <summary>Starts a run; null when <see cref="MaxRuns"/> are under way.</summary>
    public Task<PingResult>? Start(IpAddress destination, int count, TimeSpan interval, TimeSpan wait, Instant now)
    {
        if (_runs.Count >= MaxRuns)
        {
            return null;
        }
        while (_runs.ContainsKey(_nextIdentifier))
        {
            _nextIdentifier++;
        }
        var run = new Run(this, _nextIdentifier++, destination, count, interval, wait);
        _runs.Add(run.Identifier, run);
        run.Send(now);
        return run.Completion.Task;
    }

    private bool OnReply(IpAddress from, ushort identifier, ushort sequence, Instant now)
    {
        if (!_runs.TryGetValue(identifier, out var run) || from != run.Destination)
        {
            return false;
        }
        return run.OnReply(sequence, now);
    }

    /// <summary>One run: Sending -> Waiting -> done.</summary>
    private sealed class Run
    {
        private readonly GuestPinger _pinger;
        private readonly int _count;
        private readonly TimeSpan _interval;
        private readonly TimeSpan _wait;
        private readonly LoopTimer _timer;
        private readonly Instant[] _sentAt;
        private readonly List<PingReply> _replies = new();
        private int _sent;

        public Run(GuestPinger pinger, ushort identifier, IpAddress destination, int count, TimeSpan interval, TimeSpan wait)
        {
            _pinger = pinger;
            Identifier = identifier;
            Destination = destination;
            _count = count;
            _interval = interval;
            _wait = wait;
            _sentAt = new Instant[count];
            _timer = pinger._timers.Create(Send);
        }

        public ushort Identifier { get; }

        public IpAddress Destination { get; }

        public TaskCompletionSource<PingResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Send(Instant now)
        {
            if (_sent == _count)
            {
                Finish();
                return;
            }
            _sentAt[_sent] = now;
            _sent++;
            _pinger._stack.SendEchoRequest(Destination, Identifier, (ushort)_sent, DataLength);
            _timer.Schedule(now + (_sent == _count ? _wait : _interval));
        }

        /// <summary>False for a sequence number not sent, or answered already.</summary>
        public bool OnReply(ushort sequence, Instant now)
        {
            if (sequence == 0 || sequence > _sent || _replies.Exists(r => r.Sequence == sequence))
            {
                return false;
            }
            _replies.Add(new PingReply(sequence, now - _sentAt[sequence - 1]));
            if (_replies.Count == _count)
            {
                Finish();
            }
            return true;
        }

        private void Finish()
        {
            _timer.Cancel();
            _pinger._runs.Remove(Identifier);
            Completion.TrySetResult(new PingResult(Destination, _sent, _replies));
        }
    }
}
