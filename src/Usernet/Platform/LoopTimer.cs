namespace Usernet.Platform;

/// <summary>
/// A one-shot timer on the loop. A TCP connection moves its deadline on nearly every segment,
/// so moving it later costs nothing: the queued entry stays, and when it comes up early it is
/// queued again for the real deadline. Moving it earlier queues a new entry and makes the old
/// one stale (skipped by generation).
/// </summary>
internal sealed class LoopTimer
{
    private readonly TimerQueue _queue;
    private readonly Action<Instant> _callback;

    internal LoopTimer(TimerQueue queue, Action<Instant> callback)
    {
        _queue = queue;
        _callback = callback;
    }

    /// <summary>When the timer fires, or <see cref="Instant.Never"/>.</summary>
    public Instant Due { get; private set; } = Instant.Never;

    /// <summary>The deadline of this timer's live queue entry, or never.</summary>
    internal Instant QueuedAt { get; private set; } = Instant.Never;

    internal int Generation { get; private set; }

    public bool IsScheduled => Due != Instant.Never;

    public void Schedule(Instant due)
    {
        Due = due;
        if (due == Instant.Never)
        {
            Invalidate();
            return;
        }
        if (QueuedAt <= due)
        {
            return;
        }
        Invalidate();
        Enqueue(due);
    }

    /// <summary>Schedules <paramref name="due"/> unless the timer already fires earlier.</summary>
    public void ScheduleNoLaterThan(Instant due)
    {
        if (due < Due)
        {
            Schedule(due);
        }
    }

    public void Cancel() => Schedule(Instant.Never);

    /// <summary>
    /// What the timer belongs to, for counting a fault: the type of its callback's target,
    /// or of the type a lambda was written in. Only asked after a fault.
    /// </summary>
    internal string Owner
    {
        get
        {
            var type = _callback.Target?.GetType();
            // A lambda's closure is a compiler-made type ("<>c__DisplayClass3_0") nested in its
            // writer's.
            while (type is { Name: ['<', ..], DeclaringType: { } outer })
            {
                type = outer;
            }
            return type?.Name ?? "static";
        }
    }

    /// <summary>The queue calls this when the live entry comes up.</summary>
    internal void OnDue(Instant now)
    {
        QueuedAt = Instant.Never;
        if (Due > now)
        {
            Enqueue(Due);
            return;
        }
        Due = Instant.Never;
        _callback(now);
    }

    private void Enqueue(Instant due)
    {
        QueuedAt = due;
        _queue.Push(this, due);
    }

    private void Invalidate()
    {
        if (QueuedAt != Instant.Never)
        {
            Generation++;
            QueuedAt = Instant.Never;
        }
    }
}

/// <summary>
/// The loop's deadlines, earliest first. A callback that throws is counted in
/// <see cref="Faults"/> and the timers after it still run: a throw here used to end the process.
/// </summary>
internal sealed class TimerQueue(FaultCounters? faults = null)
{
    private readonly PriorityQueue<(LoopTimer Timer, int Generation), long> _heap = new();

    /// <summary>The timer whose callback is running, to name a fault.</summary>
    private LoopTimer? _running;

    public FaultCounters Faults { get; } = faults ?? new FaultCounters();

    public LoopTimer Create(Action<Instant> callback) => new(this, callback);

    internal void Push(LoopTimer timer, Instant due) => _heap.Enqueue((timer, timer.Generation), due.Nanoseconds);

    /// <summary>The earliest live entry (possibly earlier than its timer's real deadline).</summary>
    public Instant NextDue
    {
        get
        {
            while (_heap.TryPeek(out var entry, out long due))
            {
                if (entry.Generation == entry.Timer.Generation)
                {
                    return new Instant(due);
                }
                _heap.Dequeue();
            }
            return Instant.Never;
        }
    }

    /// <summary>Entries in the heap, stale ones included.</summary>
    public int Count => _heap.Count;

    /// <summary>
    /// Fires every timer due at or before <paramref name="now"/>. Only the entries present at
    /// the start are run: a timer that re-arms itself for now waits for the next wake-up
    /// instead of spinning this loop forever.
    /// </summary>
    public void RunDue(Instant now)
    {
        int budget = _heap.Count;
        // The guard is around the whole run, not each timer: after a fault the run goes on
        // from the next entry, and the loop that runs them has no try block inside it.
        while (true)
        {
            try
            {
                RunDue(now, ref budget);
                return;
            }
            catch (Exception e)
            {
                Faults.Record("timer " + (_running?.Owner ?? "queue"), e);
            }
            finally
            {
                _running = null;
            }
        }
    }

    private void RunDue(Instant now, ref int budget)
    {
        while (budget-- > 0 && _heap.TryPeek(out var entry, out long due) && due <= now.Nanoseconds)
        {
            _heap.Dequeue();
            if (entry.Generation == entry.Timer.Generation)
            {
                _running = entry.Timer;
                entry.Timer.OnDue(now);
            }
        }
    }
}
