using System.Diagnostics.CodeAnalysis;
using Usernet.Platform;

namespace Usernet.Stack;

/// <summary>
/// Flows by key within a limit and an idle timeout: the table of host sockets that UDP and
/// ICMP echo NAT keep for their guests. Adding to a full table evicts the least recently used
/// flow, so bursts from fresh source ports never exhaust file descriptors, and a flow unused
/// for the idle timeout expires. Every use moves a flow to the young end of one list, so the
/// list is in order of last use: expiry looks only at the old end, never at every flow, and
/// the next deadline is the oldest flow's. Each flow that goes is reported to the owner's
/// callback, which closes its socket.
///
/// Entries are linked in place, so a lookup or a touch allocates nothing; only adding a flow
/// does. Time is an argument; the table runs its own expiry timer on the loop's queue.
/// A flow's life: Added -> (used)* -> Evicted | Expired | Closed.
/// </summary>
internal sealed class FlowTable<TKey, TFlow>
    where TKey : struct, IEquatable<TKey>
    where TFlow : class
{
    private sealed class Entry(TKey key, TFlow flow)
    {
        public readonly TKey Key = key;
        public readonly TFlow Flow = flow;
        public Instant LastUse;
        public Entry? Older;
        public Entry? Newer;
    }

    private readonly Dictionary<TKey, Entry> _entries = new();
    private readonly Action<TFlow, FlowEnd> _ended;
    private readonly LoopTimer _expiry;
    private Entry? _oldest;
    private Entry? _newest;

    /// <param name="ended">Called for each flow that leaves the table, with why; not for flows never added.</param>
    public FlowTable(int limit, TimeSpan idleTimeout, TimerQueue timers, Action<TFlow, FlowEnd> ended)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(idleTimeout, TimeSpan.Zero);
        Limit = limit;
        IdleTimeout = idleTimeout;
        _ended = ended;
        _expiry = timers.Create(Expire);
    }

    public int Limit { get; }

    public TimeSpan IdleTimeout { get; }

    public int Count => _entries.Count;

    /// <summary>When the least recently used flow expires, or <see cref="Instant.Never"/> when the table is empty.</summary>
    public Instant NextExpiry => _oldest is null ? Instant.Never : _oldest.LastUse + IdleTimeout;

    /// <summary>Finds the flow of <paramref name="key"/> and counts this as a use of it.</summary>
    public bool TryGet(TKey key, Instant now, [MaybeNullWhen(false)] out TFlow flow)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            flow = null;
            return false;
        }
        Use(entry, now);
        flow = entry.Flow;
        return true;
    }

    /// <summary>Counts a use of the flow of <paramref name="key"/> (a reply from the host, say), if it is still here.</summary>
    public void Touch(TKey key, Instant now)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            Use(entry, now);
        }
    }

    /// <summary>
    /// Adds a flow for a key not in the table, as just used. When the table is full, the
    /// least recently used flow is evicted first.
    /// </summary>
    public void Add(TKey key, TFlow flow, Instant now)
    {
        if (_entries.ContainsKey(key))
        {
            throw new InvalidOperationException($"a flow for {key} is already in the table");
        }
        if (_entries.Count >= Limit)
        {
            End(_oldest!, FlowEnd.Evicted);
        }
        var entry = new Entry(key, flow) { LastUse = now };
        _entries.Add(key, entry);
        LinkNewest(entry);
        _expiry.ScheduleNoLaterThan(now + IdleTimeout);
    }

    /// <summary>The flows open now, oldest use first: for a view of them on request, not per packet.</summary>
    public IEnumerable<TFlow> Flows
    {
        get
        {
            for (var entry = _oldest; entry is not null; entry = entry.Newer)
            {
                yield return entry.Flow;
            }
        }
    }

    /// <summary>Closes every flow whose key matches (the flows of a guest that went away).</summary>
    public void CloseWhere(Func<TKey, bool> match)
    {
        for (var entry = _oldest; entry is not null;)
        {
            var next = entry.Newer;
            if (match(entry.Key))
            {
                End(entry, FlowEnd.Closed);
            }
            entry = next;
        }
    }

    /// <summary>
    /// Ends the flows unused for the idle timeout by <paramref name="now"/>. The table's timer
    /// calls this; the oldest flow that stays sets the next deadline.
    /// </summary>
    public void Expire(Instant now)
    {
        while (_oldest is { } oldest && oldest.LastUse + IdleTimeout <= now)
        {
            End(oldest, FlowEnd.Expired);
        }
        _expiry.Schedule(NextExpiry);
    }

    private void Use(Entry entry, Instant now)
    {
        // The loop's clock never goes back; were it to, a flow would expire late, never early.
        if (now > entry.LastUse)
        {
            entry.LastUse = now;
        }
        if (entry != _newest)
        {
            Unlink(entry);
            LinkNewest(entry);
        }
    }

    private void End(Entry entry, FlowEnd end)
    {
        Unlink(entry);
        _entries.Remove(entry.Key);
        _ended(entry.Flow, end);
    }

    private void LinkNewest(Entry entry)
    {
        entry.Older = _newest;
        entry.Newer = null;
        if (_newest is not null)
        {
            _newest.Newer = entry;
        }
        else
        {
            _oldest = entry;
        }
        _newest = entry;
    }

    private void Unlink(Entry entry)
    {
        if (entry.Older is not null)
        {
            entry.Older.Newer = entry.Newer;
        }
        else
        {
            _oldest = entry.Newer;
        }
        if (entry.Newer is not null)
        {
            entry.Newer.Older = entry.Older;
        }
        else
        {
            _newest = entry.Older;
        }
        entry.Older = null;
        entry.Newer = null;
    }
}
