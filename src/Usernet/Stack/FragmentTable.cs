namespace Usernet.Stack;

/// <summary>
/// The datagrams under reassembly, by key, within <see cref="ReassemblyLimits"/>: at most
/// MaxDatagrams at once (a new one evicts the oldest), each for at most Timeout from its first
/// fragment. Protocol-neutral: the IPv4 and IPv6 reassemblers differ in their key and in how
/// they read a fragment and fix up the reassembled header.
///
/// Slots and their <see cref="FragmentBuffer"/>s are made once and reused, and the dictionary
/// is sized for the limit, so a fragment costs no allocation; payload arrays come from the pool.
/// Slots are linked oldest to newest by creation, which makes eviction and expiry O(1).
/// A slot's life: Free -> Pending -> (Completed, until the next call) -> Free.
/// </summary>
internal sealed class FragmentTable<TKey>
    where TKey : struct, IEquatable<TKey>
{
    private const int None = -1;

    private struct Slot
    {
        public TKey Key;
        public FragmentBuffer? Buffer;
        public int Older;
        public int Newer;
    }

    private readonly ReassemblyLimits _limits;
    private readonly int _minHeaderLength;
    private readonly int _maxHeaderLength;
    private readonly int _maxDatagramLength;
    private readonly Slot[] _slots;
    private readonly Dictionary<TKey, int> _index;
    private readonly int[] _free;
    private int _freeCount;
    private int _oldest = None;
    private int _newest = None;

    // The slot whose datagram the caller may still be reading; freed on the next call.
    private int _completed = None;

    public FragmentTable(ReassemblyLimits limits, int minHeaderLength, int maxHeaderLength, int maxDatagramLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limits.MaxDatagrams);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limits.MaxFragmentsPerDatagram);
        _limits = limits;
        _minHeaderLength = minHeaderLength;
        _maxHeaderLength = maxHeaderLength;
        _maxDatagramLength = maxDatagramLength;
        _slots = new Slot[limits.MaxDatagrams];
        _index = new Dictionary<TKey, int>(limits.MaxDatagrams);
        _free = new int[limits.MaxDatagrams];
        for (int i = 0; i < _free.Length; i++)
        {
            _free[i] = _free.Length - 1 - i;
        }
        _freeCount = _free.Length;
    }

    public ReassemblyCounters Counters { get; } = new();

    public int PendingCount => _index.Count;

    /// <summary>When the oldest pending datagram times out, or <see cref="Instant.Never"/>.</summary>
    public Instant NextExpiry => _oldest == None ? Instant.Never : _slots[_oldest].Buffer!.Created + _limits.Timeout;

    /// <summary>
    /// Adds a fragment to the datagram of <paramref name="key"/>, starting one if needed. On
    /// Complete, <paramref name="datagram"/> is the datagram (header then payload), valid until
    /// the next call.
    /// </summary>
    public ReassemblyOutcome Add(
        TKey key, Instant now, int offset, ReadOnlySpan<byte> payload, bool isLast, ReadOnlySpan<byte> header,
        out Span<byte> datagram)
    {
        Expire(now);
        datagram = default;
        bool isNew = !_index.TryGetValue(key, out int slot);
        if (isNew)
        {
            // A fragment that could belong to no datagram must not cost an older one its slot.
            if (FragmentBuffer.IsMalformed(offset, payload.Length, isLast))
            {
                Counters.DroppedMalformed++;
                return ReassemblyOutcome.Dropped;
            }
            if (_freeCount == 0)
            {
                Remove(_oldest);
                Counters.DroppedTableFull++;
            }
            slot = _free[--_freeCount];
            _slots[slot].Key = key;
            _slots[slot].Buffer ??= new FragmentBuffer(_limits.MaxFragmentsPerDatagram, _minHeaderLength, _maxHeaderLength, _maxDatagramLength);
            _slots[slot].Buffer!.Start(now);
            _index.Add(key, slot);
            Link(slot);
        }

        FragmentBuffer fragments = _slots[slot].Buffer!;
        FragmentVerdict verdict = fragments.Add(offset, payload, isLast, header);
        switch (verdict)
        {
            case FragmentVerdict.Accepted:
                return ReassemblyOutcome.Pending;
            case FragmentVerdict.Duplicate:
                Counters.DuplicatesIgnored++;
                return ReassemblyOutcome.Pending;
            case FragmentVerdict.Complete:
                Counters.Completed++;
                Unlink(slot);
                _index.Remove(key);
                _completed = slot;
                datagram = fragments.Datagram;
                return ReassemblyOutcome.Complete;
        }

        Remove(slot);
        switch (verdict)
        {
            case FragmentVerdict.Overlap:
                Counters.DroppedOverlap++;
                break;
            case FragmentVerdict.TooLarge:
                Counters.DroppedTooLarge++;
                break;
            case FragmentVerdict.TooManyFragments:
                Counters.DroppedTooManyFragments++;
                break;
            default:
                Counters.DroppedMalformed++;
                break;
        }
        return ReassemblyOutcome.Dropped;
    }

    /// <summary>Drops the datagrams whose first fragment came Timeout or longer before <paramref name="now"/>.</summary>
    public void Expire(Instant now)
    {
        FreeCompleted();
        while (_oldest != None && now >= _slots[_oldest].Buffer!.Created + _limits.Timeout)
        {
            Remove(_oldest);
            Counters.TimedOut++;
        }
    }

    private void FreeCompleted()
    {
        if (_completed != None)
        {
            Free(_completed);
            _completed = None;
        }
    }

    private void Remove(int slot)
    {
        Unlink(slot);
        _index.Remove(_slots[slot].Key);
        Free(slot);
    }

    /// <summary>Returns the slot's array to the pool and the slot to the free list.</summary>
    private void Free(int slot)
    {
        _slots[slot].Buffer!.Release();
        _slots[slot].Key = default;
        _free[_freeCount++] = slot;
    }

    private void Link(int slot)
    {
        _slots[slot].Older = _newest;
        _slots[slot].Newer = None;
        if (_newest != None)
        {
            _slots[_newest].Newer = slot;
        }
        else
        {
            _oldest = slot;
        }
        _newest = slot;
    }

    private void Unlink(int slot)
    {
        int older = _slots[slot].Older;
        int newer = _slots[slot].Newer;
        if (older != None)
        {
            _slots[older].Newer = newer;
        }
        else
        {
            _oldest = newer;
        }
        if (newer != None)
        {
            _slots[newer].Older = older;
        }
        else
        {
            _newest = older;
        }
        _slots[slot].Older = None;
        _slots[slot].Newer = None;
    }
}
