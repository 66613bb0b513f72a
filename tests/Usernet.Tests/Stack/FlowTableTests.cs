using Usernet.Platform;
using Usernet.Stack;

namespace Usernet.Tests.Stack;

public sealed class FlowTableTests
{
    private static readonly Instant T0 = Instant.FromMilliseconds(1_000);
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(60);

    private sealed record Flow(int Key);

    /// <summary>A table of <see cref="Flow"/>s by int, recording every flow that leaves it and why, on a timer queue the test runs.</summary>
    private sealed class Fixture
    {
        public Fixture(int limit = 4)
        {
            Table = new FlowTable<int, Flow>(limit, Idle, Timers, (flow, end) => Ended.Add((flow.Key, end)));
        }

        public TimerQueue Timers { get; } = new();

        public FlowTable<int, Flow> Table { get; }

        public List<(int Key, FlowEnd End)> Ended { get; } = new();

        public void Add(int key, Instant now) => Table.Add(key, new Flow(key), now);

        public bool Has(int key) => Table.TryGet(key, T0, out _);

        /// <summary>Runs the loop's timers at <paramref name="now"/>, as the loop does when it wakes.</summary>
        public void RunTimers(Instant now) => Timers.RunDue(now);
    }

    [Fact]
    public void AFlowIsFoundByItsKeyUntilItEnds()
    {
        var f = new Fixture();
        f.Add(1, T0);
        Assert.True(f.Table.TryGet(1, T0, out var flow));
        Assert.Equal(new Flow(1), flow);
        Assert.False(f.Table.TryGet(2, T0, out _));
        Assert.Equal(1, f.Table.Count);
        Assert.Throws<InvalidOperationException>(() => f.Add(1, T0));
    }

    [Fact]
    public void AFullTableEvictsTheLeastRecentlyAdded()
    {
        var f = new Fixture(limit: 3);
        for (int key = 1; key <= 3; key++)
        {
            f.Add(key, T0 + TimeSpan.FromSeconds(key));
        }
        f.Add(4, T0 + TimeSpan.FromSeconds(4));

        Assert.Equal([(1, FlowEnd.Evicted)], f.Ended);
        Assert.Equal(3, f.Table.Count);
        Assert.False(f.Table.TryGet(1, T0, out _));
    }

    [Fact]
    public void AUseMakesAFlowTheLastToBeEvicted()
    {
        var f = new Fixture(limit: 3);
        f.Add(1, T0);
        f.Add(2, T0 + TimeSpan.FromSeconds(1));
        f.Add(3, T0 + TimeSpan.FromSeconds(2));
        // A lookup is a use (a datagram from the guest), and so is a touch (a reply from the host).
        Assert.True(f.Table.TryGet(1, T0 + TimeSpan.FromSeconds(3), out _));
        f.Table.Touch(2, T0 + TimeSpan.FromSeconds(4));

        f.Add(4, T0 + TimeSpan.FromSeconds(5));
        f.Add(5, T0 + TimeSpan.FromSeconds(6));

        Assert.Equal([(3, FlowEnd.Evicted), (1, FlowEnd.Evicted)], f.Ended);
        Assert.True(f.Has(2));
    }

    [Fact]
    public void TheTableNeverHoldsMoreThanItsLimit()
    {
        var f = new Fixture(limit: 16);
        for (int key = 0; key < 1000; key++)
        {
            f.Add(key, T0 + TimeSpan.FromMilliseconds(key));
            Assert.True(f.Table.Count <= 16);
        }
        Assert.Equal(16, f.Table.Count);
        Assert.Equal(1000 - 16, f.Ended.Count);
        Assert.All(f.Ended, e => Assert.Equal(FlowEnd.Evicted, e.End));
        // Each evicted once, oldest first.
        Assert.Equal(Enumerable.Range(0, 1000 - 16), f.Ended.Select(e => e.Key));
    }

    [Fact]
    public void AnIdleFlowExpiresAtItsTimeoutNotBefore()
    {
        var f = new Fixture();
        f.Add(1, T0);
        Assert.Equal(T0 + Idle, f.Table.NextExpiry);
        Assert.Equal(T0 + Idle, f.Timers.NextDue);

        f.RunTimers(new Instant((T0 + Idle).Nanoseconds - 1));
        Assert.Empty(f.Ended);

        f.RunTimers(T0 + Idle);
        Assert.Equal([(1, FlowEnd.Expired)], f.Ended);
        Assert.Equal(0, f.Table.Count);
        Assert.Equal(Instant.Never, f.Table.NextExpiry);
        Assert.Equal(Instant.Never, f.Timers.NextDue);
    }

    [Fact]
    public void AUsedFlowLivesOnAndTheTimerFollowsTheOldest()
    {
        var f = new Fixture();
        f.Add(1, T0);
        f.Add(2, T0 + TimeSpan.FromSeconds(10));
        var used = T0 + TimeSpan.FromSeconds(50);
        f.Table.Touch(1, used);

        // The timer was set for flow 1's first deadline: waking then finds nothing to do yet
        // and sets the next deadline, now flow 2's.
        f.RunTimers(T0 + Idle);
        Assert.Empty(f.Ended);
        Assert.Equal(T0 + TimeSpan.FromSeconds(10) + Idle, f.Table.NextExpiry);

        f.RunTimers(T0 + TimeSpan.FromSeconds(10) + Idle);
        Assert.Equal([(2, FlowEnd.Expired)], f.Ended);
        Assert.Equal(used + Idle, f.Timers.NextDue);

        f.RunTimers(used + Idle);
        Assert.Equal([(2, FlowEnd.Expired), (1, FlowEnd.Expired)], f.Ended);
    }

    [Fact]
    public void ExpiryEndsEveryIdleFlowAtOnceAndStopsAtTheFirstInUse()
    {
        var f = new Fixture(limit: 100);
        for (int key = 0; key < 100; key++)
        {
            f.Add(key, T0 + TimeSpan.FromSeconds(key));
        }
        f.RunTimers(T0 + TimeSpan.FromSeconds(49) + Idle);
        Assert.Equal(Enumerable.Range(0, 50), f.Ended.Select(e => e.Key));
        Assert.Equal(50, f.Table.Count);
        Assert.Equal(T0 + TimeSpan.FromSeconds(50) + Idle, f.Table.NextExpiry);
    }

    [Fact]
    public void ATouchForAFlowNoLongerThereDoesNothing()
    {
        var f = new Fixture();
        f.Add(1, T0);
        f.RunTimers(T0 + Idle);
        f.Table.Touch(1, T0 + Idle);
        Assert.Equal(0, f.Table.Count);
        Assert.Single(f.Ended);
    }

    [Fact]
    public void CloseWhereEndsOnlyTheMatchingFlows()
    {
        var f = new Fixture(limit: 10);
        for (int key = 0; key < 10; key++)
        {
            f.Add(key, T0);
        }
        f.Table.CloseWhere(key => key % 3 == 0);
        Assert.Equal([(0, FlowEnd.Closed), (3, FlowEnd.Closed), (6, FlowEnd.Closed), (9, FlowEnd.Closed)], f.Ended);
        Assert.Equal(6, f.Table.Count);
        Assert.True(f.Has(1));
        Assert.False(f.Has(3));

        // The list stays whole: the rest still expire in order of use (the lookup of 1 above was its last).
        f.RunTimers(T0 + Idle);
        Assert.Equal([2, 4, 5, 7, 8, 1], f.Ended.Skip(4).Select(e => e.Key));
    }

    [Fact]
    public void ALookupOrATouchAllocatesNothing()
    {
        var table = new FlowTable<(long, ushort), Flow>(64, Idle, new TimerQueue(), (_, _) => { });
        for (int key = 0; key < 64; key++)
        {
            table.Add((key, (ushort)key), new Flow(key), T0);
        }
        var now = T0;
        table.TryGet((1, 1), now, out _);
        table.Touch((2, 2), now);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            now += TimeSpan.FromMilliseconds(1);
            table.TryGet((i % 64, (ushort)(i % 64)), now, out _);
            table.Touch(((i * 7) % 64, (ushort)((i * 7) % 64)), now);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void TheLimitAndTimeoutMustBePositive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlowTable<int, Flow>(0, Idle, new TimerQueue(), (_, _) => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlowTable<int, Flow>(1, TimeSpan.Zero, new TimerQueue(), (_, _) => { }));
    }
}
