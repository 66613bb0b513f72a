using Usernet.Stack;

namespace Usernet.Tests.Stack;

/// <summary>
/// What reassembly does whatever the family, run for IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200
/// §4.5) by <see cref="Ipv4ReassemblerTests"/> and <see cref="Ipv6ReassemblerTests"/>, which add
/// what only their family has: captured fragments, header options and extension headers, keys.
/// </summary>
public abstract class ReassemblyTests
{
    private protected static readonly ReassemblyLimits Limits = new(MaxDatagrams: 8, MaxFragmentsPerDatagram: 16, Timeout: TimeSpan.FromSeconds(30));
    private protected static readonly Instant T0 = Instant.FromMilliseconds(1_000);
    private protected const ushort Id = 0x1234;

    /// <summary>A fragment size both families use on a 1500-byte link, a multiple of 8.</summary>
    private protected const int Chunk = 1448;

    /// <summary>A reassembler of the family under test, as the tests drive it: packets in as bytes.</summary>
    private protected interface ISubject
    {
        ReassemblyCounters Counters { get; }

        int PendingCount { get; }

        Instant NextExpiry { get; }

        /// <summary>Takes one fragment; allocates nothing.</summary>
        ReassemblyOutcome Accept(byte[] packet, Instant now);

        ReassemblyOutcome Accept(byte[] packet, Instant now, out byte[] datagram);

        void Expire(Instant now);
    }

    private protected abstract ISubject Create(ReassemblyLimits limits);

    /// <summary>One fragment of <paramref name="payload"/>: bytes [offset, offset + length).</summary>
    private protected abstract byte[] Fragment(byte[] payload, int offset, int length, bool more, ushort id = Id);

    /// <summary>The packet that the fragments of <see cref="Fragment"/> with <paramref name="id"/> came from.</summary>
    private protected abstract byte[] Whole(byte[] payload, ushort id = Id);

    /// <summary>The largest payload a datagram of the family may carry.</summary>
    private protected abstract int MaxPayload { get; }

    /// <summary>Checks that a reassembled datagram parses and is no fragment.</summary>
    private protected abstract void AssertNotAFragment(byte[] datagram);

    private protected ISubject Create() => Create(Limits);

    private protected List<byte[]> Split(byte[] payload, int size, ushort id = Id)
    {
        var fragments = new List<byte[]>();
        for (int offset = 0; offset < payload.Length; offset += size)
        {
            int length = Math.Min(size, payload.Length - offset);
            fragments.Add(Fragment(payload, offset, length, more: offset + length < payload.Length, id));
        }
        return fragments;
    }

    private protected static byte[] RandomPayload(int length, int seed)
    {
        byte[] payload = new byte[length];
        new Random(seed).NextBytes(payload);
        return payload;
    }

    /// <summary>Feeds all fragments; only the last may complete, and it must give <paramref name="expected"/>.</summary>
    private protected void AssertReassembles(ISubject reassembler, IReadOnlyList<byte[]> fragments, byte[] expected)
    {
        for (int i = 0; i < fragments.Count - 1; i++)
        {
            Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(fragments[i], T0));
        }
        Assert.Equal(ReassemblyOutcome.Complete, reassembler.Accept(fragments[^1], T0, out var datagram));
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(datagram));
        AssertNotAFragment(datagram);
        Assert.Equal(0, reassembler.PendingCount);
        Assert.Equal(Instant.Never, reassembler.NextExpiry);
    }

    [Fact]
    public void InOrder()
    {
        byte[] payload = RandomPayload(3000, 1);
        var reassembler = Create();
        AssertReassembles(reassembler, Split(payload, Chunk), Whole(payload));
        Assert.Equal(1, reassembler.Counters.Completed);
    }

    [Fact]
    public void ReverseOrder()
    {
        byte[] payload = RandomPayload(5001, 2);
        var fragments = Split(payload, 1000);
        fragments.Reverse();
        AssertReassembles(Create(), fragments, Whole(payload));
    }

    [Fact]
    public void RandomOrderAndSizes()
    {
        var random = new Random(3);
        var reassembler = Create();
        for (int round = 0; round < 300; round++)
        {
            ushort id = (ushort)round;
            byte[] payload = RandomPayload(random.Next(9, 20_000), round);
            var fragments = new List<byte[]>();
            for (int offset = 0; offset < payload.Length;)
            {
                int length = Math.Min(8 * random.Next(1, 400), payload.Length - offset);
                fragments.Add(Fragment(payload, offset, length, more: offset + length < payload.Length, id));
                offset += length;
            }
            // One piece is a whole packet, not a fragment.
            if (fragments.Count < 2 || fragments.Count > Limits.MaxFragmentsPerDatagram)
            {
                continue;
            }
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(fragments));
            AssertReassembles(reassembler, fragments, Whole(payload, id));
        }
        Assert.True(reassembler.Counters.Completed > 200);
    }

    [Fact]
    public void LargestDatagramReassembles()
    {
        byte[] payload = RandomPayload(MaxPayload, 10);
        var fragments = Split(payload, Chunk);
        fragments.Reverse();
        AssertReassembles(Create(Limits with { MaxFragmentsPerDatagram = 64 }), fragments, Whole(payload));
    }

    [Theory]
    // RFC 5722 and Linux since 2018: any overlap drops the datagram.
    [InlineData(0, 16, false, 8, 16, false, nameof(ReassemblyCounters.DroppedOverlap))]  // starts inside the first
    [InlineData(8, 16, false, 0, 16, false, nameof(ReassemblyCounters.DroppedOverlap))]  // the first starts inside it
    [InlineData(0, 32, false, 8, 8, false, nameof(ReassemblyCounters.DroppedOverlap))]   // wholly inside
    [InlineData(8, 8, false, 0, 32, false, nameof(ReassemblyCounters.DroppedOverlap))]   // wholly around
    [InlineData(0, 16, false, 0, 24, false, nameof(ReassemblyCounters.DroppedOverlap))]  // same start, longer
    [InlineData(48, 52, true, 40, 16, false, nameof(ReassemblyCounters.DroppedOverlap))] // into the last fragment
    // Only the last fragment may end off an 8-byte boundary.
    [InlineData(48, 52, true, 0, 44, false, nameof(ReassemblyCounters.DroppedMalformed))]
    // Two last fragments that disagree on the length.
    [InlineData(96, 4, true, 104, 20, true, nameof(ReassemblyCounters.DroppedMalformed))]
    // A fragment beyond the end, and a last fragment that ends before what was received.
    [InlineData(96, 4, true, 200, 16, false, nameof(ReassemblyCounters.DroppedMalformed))]
    [InlineData(200, 16, false, 96, 4, true, nameof(ReassemblyCounters.DroppedMalformed))]
    // Offset 65528 plus 16 bytes is more than a datagram holds (the ping of death).
    [InlineData(0, Chunk, false, 65528, 16, true, nameof(ReassemblyCounters.DroppedTooLarge))]
    public void SecondFragmentDropsTheDatagram(
        int offset1, int length1, bool last1, int offset2, int length2, bool last2, string counter)
    {
        byte[] payload = RandomPayload(65528 + 16, 5);
        var reassembler = Create();
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Fragment(payload, offset1, length1, more: !last1), T0));
        Assert.Equal(ReassemblyOutcome.Dropped, reassembler.Accept(Fragment(payload, offset2, length2, more: !last2), T0));
        Assert.Equal(0, reassembler.PendingCount);
        Assert.Equal(Instant.Never, reassembler.NextExpiry);
        var counters = reassembler.Counters;
        long dropped = counter switch
        {
            nameof(ReassemblyCounters.DroppedOverlap) => counters.DroppedOverlap,
            nameof(ReassemblyCounters.DroppedMalformed) => counters.DroppedMalformed,
            _ => counters.DroppedTooLarge,
        };
        Assert.Equal(1, dropped);
        Assert.Equal(1, counters.DroppedOverlap + counters.DroppedMalformed + counters.DroppedTooLarge);

        // The first fragment went with the datagram: sent again, it starts a new one.
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Fragment(payload, offset1, length1, more: !last1), T0));
    }

    [Fact]
    public void FragmentWrongInItselfStartsNothing()
    {
        // Refused before it takes a slot, so it cannot evict a datagram either.
        byte[] payload = RandomPayload(100, 12);
        var reassembler = Create(Limits with { MaxDatagrams = 1 });
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Fragment(payload, 0, 8, more: true, id: 1), T0));
        Assert.Equal(ReassemblyOutcome.Dropped, reassembler.Accept(Fragment(payload, 0, 44, more: true), T0));
        Assert.Equal(ReassemblyOutcome.Dropped, reassembler.Accept(Fragment(payload, 8, 0, more: true), T0));
        Assert.Equal(2, reassembler.Counters.DroppedMalformed);
        Assert.Equal(0, reassembler.Counters.DroppedTableFull);
        Assert.Equal(1, reassembler.PendingCount);
    }

    [Fact]
    public void ExactDuplicatesAreIgnored()
    {
        byte[] payload = RandomPayload(3000, 7);
        var fragments = Split(payload, 1000);
        var reassembler = Create();
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(fragments[0], T0));
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(fragments[0], T0));
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(fragments[2], T0));
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(fragments[2], T0));
        Assert.Equal(ReassemblyOutcome.Complete, reassembler.Accept(fragments[1], T0, out var datagram));
        Assert.Equal(Whole(payload), datagram);
        Assert.Equal(2, reassembler.Counters.DuplicatesIgnored);
        Assert.Equal(0, reassembler.Counters.DroppedOverlap);

        // A duplicate after completion belongs to no datagram: it starts a new one, which times out.
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(fragments[1], T0));
        Assert.Equal(1, reassembler.PendingCount);
    }

    [Fact]
    public void EndlessFragmentsStayWithinTheTable()
    {
        // A guest that sends first fragments with ever new identifications and never the rest:
        // the table stays full, and evicted datagrams give their arrays back to the pool.
        var reassembler = Create();
        byte[] payload = RandomPayload(Chunk, 8);
        byte[][] fragments = [.. Enumerable.Range(0, 1000).Select(i => Fragment(payload, 0, Chunk, more: true, id: (ushort)i))];
        var now = T0;
        long allocatedBefore = 0;
        int pending = 0;
        int mostPending = 0;
        for (int round = 0; round < 20; round++)
        {
            if (round == 1)
            {
                // Asserts allocate, so the loop only counts.
                allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            }
            foreach (byte[] fragment in fragments)
            {
                pending += reassembler.Accept(fragment, now) == ReassemblyOutcome.Pending ? 1 : 0;
                mostPending = Math.Max(mostPending, reassembler.PendingCount);
                now += TimeSpan.FromMilliseconds(1);
            }
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.Equal(20_000, pending);
        Assert.Equal(Limits.MaxDatagrams, mostPending);
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated");
        Assert.Equal(Limits.MaxDatagrams, reassembler.PendingCount);
        Assert.Equal(20_000 - Limits.MaxDatagrams, reassembler.Counters.DroppedTableFull);
        Assert.Equal(0, reassembler.Counters.TimedOut);
    }

    [Fact]
    public void SteadyStateAllocatesNothingPerFragment()
    {
        // Slots, buffers and the dictionary are made once; payload arrays come from the pool.
        var reassembler = Create();
        byte[] payload = RandomPayload(3000, 9);
        // One datagram that never completes: after the first round its fragment is a duplicate.
        byte[][] packets = [.. Split(payload, Chunk), Fragment(payload, Chunk, Chunk, more: true, id: 1)];

        void Run(int rounds)
        {
            for (int round = 0; round < rounds; round++)
            {
                foreach (byte[] packet in packets)
                {
                    reassembler.Accept(packet, T0);
                }
            }
        }

        Run(100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // 40,000 fragments; allow for the pool refilling itself once or twice after a trim.
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated");
        Assert.Equal(10_100, reassembler.Counters.Completed);
    }

    [Fact]
    public void TooManyFragmentsDropsTheDatagram()
    {
        byte[] payload = RandomPayload(1024, 11);
        var reassembler = Create();
        for (int i = 0; i < Limits.MaxFragmentsPerDatagram; i++)
        {
            // Every other 8-byte piece, so that none completes.
            Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Fragment(payload, i * 16, 8, more: true), T0));
        }
        Assert.Equal(ReassemblyOutcome.Dropped, reassembler.Accept(Fragment(payload, 1000, 8, more: true), T0));
        Assert.Equal(1, reassembler.Counters.DroppedTooManyFragments);
        Assert.Equal(0, reassembler.PendingCount);
    }

    [Fact]
    public void TimesOutByExplicitTime()
    {
        byte[] payload = RandomPayload(3000, 16);
        var fragments = Split(payload, Chunk);
        var reassembler = Create();
        Assert.Equal(Instant.Never, reassembler.NextExpiry);

        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(fragments[0], T0));
        Assert.Equal(T0 + Limits.Timeout, reassembler.NextExpiry);
        // Later fragments do not extend the time: it runs from the first (RFC 791 §3.2, RFC 8200 §4.5).
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(fragments[1], T0 + TimeSpan.FromSeconds(20)));
        Assert.Equal(T0 + Limits.Timeout, reassembler.NextExpiry);

        reassembler.Expire(new Instant((T0 + Limits.Timeout).Nanoseconds - 1));
        Assert.Equal(1, reassembler.PendingCount);
        reassembler.Expire(T0 + Limits.Timeout);
        Assert.Equal(0, reassembler.PendingCount);
        Assert.Equal(1, reassembler.Counters.TimedOut);
        Assert.Equal(Instant.Never, reassembler.NextExpiry);

        // The straggler starts a new datagram rather than completing the old one.
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(fragments[2], T0 + Limits.Timeout));
    }

    [Fact]
    public void AcceptExpiresFirst()
    {
        byte[] payload = RandomPayload(3000, 17);
        var fragments = Split(payload, Chunk);
        var reassembler = Create();
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(fragments[0], T0));
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(fragments[1], T0));
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(fragments[2], T0 + TimeSpan.FromMinutes(1)));
        Assert.Equal(1, reassembler.Counters.TimedOut);
        Assert.Equal(0, reassembler.Counters.Completed);
    }

    [Fact]
    public void NextExpiryFollowsTheOldest()
    {
        byte[] payload = RandomPayload(3000, 18);
        var reassembler = Create();
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Fragment(payload, 0, Chunk, more: true, id: 1), T0));
        var later = T0 + TimeSpan.FromSeconds(5);
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Fragment(payload, 0, Chunk, more: true, id: 2), later));
        Assert.Equal(T0 + Limits.Timeout, reassembler.NextExpiry);

        // Completing the oldest leaves the next one's deadline.
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Fragment(payload, Chunk, Chunk, more: true, id: 1), later));
        Assert.Equal(ReassemblyOutcome.Complete, reassembler.Accept(Fragment(payload, 2 * Chunk, 3000 - 2 * Chunk, more: false, id: 1), later));
        Assert.Equal(later + Limits.Timeout, reassembler.NextExpiry);
        Assert.Equal(1, reassembler.PendingCount);
    }

    [Fact]
    public void FullTableEvictsTheOldest()
    {
        var limits = Limits with { MaxDatagrams = 2 };
        byte[] payload = RandomPayload(3000, 19);
        var reassembler = Create(limits);
        for (ushort id = 1; id <= 3; id++)
        {
            Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Fragment(payload, 0, Chunk, more: true, id), T0 + TimeSpan.FromSeconds(id)));
        }
        Assert.Equal(1, reassembler.Counters.DroppedTableFull);
        Assert.Equal(2, reassembler.PendingCount);
        Assert.Equal(T0 + TimeSpan.FromSeconds(2) + limits.Timeout, reassembler.NextExpiry);

        // 2 and 3 survive and complete; 1 lost its first fragment and cannot.
        var now = T0 + TimeSpan.FromSeconds(4);
        foreach (ushort id in new ushort[] { 2, 3 })
        {
            Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Fragment(payload, Chunk, Chunk, more: true, id), now));
            Assert.Equal(ReassemblyOutcome.Complete, reassembler.Accept(Fragment(payload, 2 * Chunk, 3000 - 2 * Chunk, more: false, id), now, out var datagram));
            Assert.Equal(Whole(payload, id), datagram);
        }
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Fragment(payload, Chunk, Chunk, more: true, id: 1), now));
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Fragment(payload, 2 * Chunk, 3000 - 2 * Chunk, more: false, id: 1), now));
    }

    [Fact]
    public void RejectsLimitsThatAllowNothing()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(Limits with { MaxDatagrams = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(Limits with { MaxFragmentsPerDatagram = 0 }));
    }
}
