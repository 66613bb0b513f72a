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

/// <summary>The loop's deadlines, earliest first.</summary>
internal sealed class TimerQueue
{
    private readonly PriorityQueue<(LoopTimer Timer, int Generation), long> _heap = new();

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
        while (budget-- > 0 && _heap.TryPeek(out var entry, out long due) && due <= now.Nanoseconds)
        {
            _heap.Dequeue();
            if (entry.Generation == entry.Timer.Generation)
            {
                entry.Timer.OnDue(now);
            }
        }
    }
}
