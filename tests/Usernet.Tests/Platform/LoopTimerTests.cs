using Usernet.Platform;

namespace Usernet.Tests.Platform;

public sealed class LoopTimerTests
{
    private static Instant Ms(long milliseconds) => Instant.FromMilliseconds(milliseconds);

    private static Instant JustBefore(Instant instant) => new(instant.Nanoseconds - 1);

    [Fact]
    public void TimersFireInDeadlineOrderWithTheTimeOfTheRun()
    {
        var queue = new TimerQueue();
        var fired = new List<(string Name, Instant Now)>();
        foreach (var (name, due) in new[] { ("c", 30), ("a", 10), ("b", 20) })
        {
            queue.Create(now => fired.Add((name, now))).Schedule(Ms(due));
        }
        Assert.Equal(Ms(10), queue.NextDue);

        queue.RunDue(Ms(25));
        Assert.Equal([("a", Ms(25)), ("b", Ms(25))], fired);
        Assert.Equal(Ms(30), queue.NextDue);
        queue.RunDue(Ms(30));
        Assert.Equal("c", fired[^1].Name);
        Assert.Equal(Instant.Never, queue.NextDue);
    }

    [Fact]
    public void ATimerFiresAtItsDeadlineNotBefore()
    {
        var queue = new TimerQueue();
        int fired = 0;
        var timer = queue.Create(_ => fired++);
        timer.Schedule(Ms(100));
        queue.RunDue(JustBefore(Ms(100)));
        Assert.Equal(0, fired);
        Assert.True(timer.IsScheduled);
        queue.RunDue(Ms(100));
        Assert.Equal(1, fired);
        Assert.False(timer.IsScheduled);
        Assert.Equal(Instant.Never, timer.Due);
        queue.RunDue(Ms(1_000));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void MovingTheDeadlineLaterCostsNoNewEntry()
    {
        // What a TCP connection does on nearly every segment.
        var queue = new TimerQueue();
        var fired = new List<Instant>();
        var timer = queue.Create(fired.Add);
        timer.Schedule(Ms(10));
        for (int i = 1; i <= 1_000; i++)
        {
            timer.Schedule(Ms(10 + i));
        }
        Assert.Equal(1, queue.Count);
        Assert.Equal(Ms(1_010), timer.Due);

        // The old entry comes up early and is queued again for the real deadline.
        queue.RunDue(Ms(10));
        Assert.Empty(fired);
        Assert.Equal(1, queue.Count);
        Assert.Equal(Ms(1_010), queue.NextDue);
        queue.RunDue(Ms(1_010));
        Assert.Equal([Ms(1_010)], fired);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void MovingTheDeadlineEarlierQueuesAgainAndTheOldEntryIsSkipped()
    {
        var queue = new TimerQueue();
        var fired = new List<Instant>();
        var timer = queue.Create(fired.Add);
        timer.Schedule(Ms(20));
        timer.Schedule(Ms(10));
        Assert.Equal(2, queue.Count);
        Assert.Equal(Ms(10), queue.NextDue);

        queue.RunDue(Ms(10));
        Assert.Equal([Ms(10)], fired);
        queue.RunDue(Ms(20));
        Assert.Single(fired);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void ScheduleNoLaterThanOnlyEverMovesEarlier()
    {
        var queue = new TimerQueue();
        var timer = queue.Create(_ => { });
        timer.ScheduleNoLaterThan(Ms(50));
        Assert.Equal(Ms(50), timer.Due);
        timer.ScheduleNoLaterThan(Ms(80));
        Assert.Equal(Ms(50), timer.Due);
        timer.ScheduleNoLaterThan(Ms(20));
        Assert.Equal(Ms(20), timer.Due);
        timer.ScheduleNoLaterThan(Instant.Never);
        Assert.Equal(Ms(20), timer.Due);
    }

    [Fact]
    public void ACancelledTimerDoesNotFire()
    {
        var queue = new TimerQueue();
        int fired = 0;
        var timer = queue.Create(_ => fired++);
        timer.Schedule(Ms(10));
        timer.Cancel();
        Assert.False(timer.IsScheduled);
        // The stale entry is dropped as soon as it is looked at.
        Assert.Equal(Instant.Never, queue.NextDue);
        Assert.Equal(0, queue.Count);
        queue.RunDue(Ms(100));
        Assert.Equal(0, fired);
    }

    [Fact]
    public void ACancelledTimerCanBeScheduledAgain()
    {
        var queue = new TimerQueue();
        var fired = new List<Instant>();
        var timer = queue.Create(fired.Add);
        timer.Schedule(Ms(10));
        timer.Cancel();
        timer.Schedule(Ms(30));
        queue.RunDue(Ms(20));
        Assert.Empty(fired);
        queue.RunDue(Ms(30));
        Assert.Equal([Ms(30)], fired);
    }

    [Fact]
    public void ATimerRescheduledFromItsOwnCallbackFiresAgainLater()
    {
        var queue = new TimerQueue();
        var fired = new List<Instant>();
        LoopTimer? timer = null;
        timer = queue.Create(now =>
        {
            fired.Add(now);
            if (fired.Count < 5)
            {
                timer!.Schedule(now + TimeSpan.FromMilliseconds(10));
            }
        });
        timer.Schedule(Ms(10));
        for (long t = 10; t <= 100; t += 10)
        {
            queue.RunDue(Ms(t));
        }
        Assert.Equal([Ms(10), Ms(20), Ms(30), Ms(40), Ms(50)], fired);
        Assert.False(timer.IsScheduled);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void ATimerArmedForNowInsideACallbackWaitsForTheNextRun()
    {
        var queue = new TimerQueue();
        var fired = new List<string>();
        var second = queue.Create(_ => fired.Add("second"));
        var first = queue.Create(now =>
        {
            fired.Add("first");
            second.Schedule(now);
        });
        first.Schedule(Ms(10));
        queue.RunDue(Ms(10));
        Assert.Equal(["first"], fired);
        Assert.Equal(Ms(10), queue.NextDue);
        queue.RunDue(Ms(10));
        Assert.Equal(["first", "second"], fired);
    }

    [Fact]
    public void ATimerThatKeepsReArmingItselfForNowCannotSpinARun()
    {
        var queue = new TimerQueue();
        int fired = 0;
        LoopTimer? timer = null;
        timer = queue.Create(now =>
        {
            fired++;
            timer!.Schedule(now);
        });
        timer.Schedule(Ms(10));
        queue.RunDue(Ms(10));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void ManyTimersFireOnceEachAtTheFirstRunAfterTheirDeadline()
    {
        var queue = new TimerQueue();
        var random = new Random(7);
        const int Count = 5_000;
        var timers = new LoopTimer[Count];
        var firedAt = new Instant[Count];
        for (int i = 0; i < Count; i++)
        {
            int index = i;
            timers[i] = queue.Create(now =>
            {
                Assert.Equal(default, firedAt[index]);
                firedAt[index] = now;
            });
            timers[i].Schedule(Ms(random.Next(1, 10_000)));
        }

        // Churn as connections do: later, earlier, cancelled, back again.
        var expected = new Instant[Count];
        for (int i = 0; i < Count; i++)
        {
            switch (random.Next(4))
            {
                case 0:
                    timers[i].Schedule(timers[i].Due + TimeSpan.FromMilliseconds(random.Next(1, 5_000)));
                    break;
                case 1:
                    timers[i].Schedule(Ms(random.Next(1, (int)timers[i].Due.Milliseconds + 1)));
                    break;
                case 2:
                    timers[i].Cancel();
                    break;
            }
            expected[i] = timers[i].Due;
        }

        var previous = Instant.Zero;
        for (long t = 0; t <= 20_000; t += 7)
        {
            var now = Ms(t);
            var due = queue.NextDue;
            Assert.True(due >= previous);
            queue.RunDue(now);
            previous = now;
        }
        for (int i = 0; i < Count; i++)
        {
            if (expected[i] == Instant.Never)
            {
                Assert.Equal(default, firedAt[i]);
                continue;
            }
            // Fired at the first run at or after its deadline.
            Assert.True(firedAt[i] >= expected[i]);
            Assert.True(firedAt[i] - expected[i] < TimeSpan.FromMilliseconds(7));
        }
        Assert.InRange(expected.Count(e => e == Instant.Never), Count / 8, Count / 3);
        Assert.Equal(0, queue.Count);
        Assert.Equal(Instant.Never, queue.NextDue);
    }

    /// <summary>Owns a timer whose callback throws, as a bug in a flow's timer would.</summary>
    private sealed class FaultyFlow
    {
        public FaultyFlow(TimerQueue queue) => Timer = queue.Create(Expire);

        public LoopTimer Timer { get; }

        private void Expire(Instant now) => throw new InvalidOperationException("a bug in a timer");
    }

    [Fact]
    public void ACallbackThatThrowsIsCountedAndTheTimersAfterItStillRun()
    {
        var queue = new TimerQueue();
        var fired = new List<string>();
        queue.Create(_ => fired.Add("before")).Schedule(Ms(10));
        new FaultyFlow(queue).Timer.Schedule(Ms(20));
        queue.Create(_ => fired.Add("after")).Schedule(Ms(30));
        int captured = 0;
        queue.Create(_ => throw new ArgumentException($"a lambda's bug {captured}")).Schedule(Ms(40));
        queue.Create(_ => fired.Add("last")).Schedule(Ms(50));

        queue.RunDue(Ms(100));

        Assert.Equal(["before", "after", "last"], fired);
        Assert.Equal(1, queue.Faults.Count("timer FaultyFlow", nameof(InvalidOperationException)));
        // A lambda's closure counts under the type it was written in.
        Assert.Equal(1, queue.Faults.Count("timer LoopTimerTests", nameof(ArgumentException)));
        Assert.Equal(Instant.Never, queue.NextDue);
    }

    [Fact]
    public void ATimerWhoseCallbackThrewCanBeScheduledAgain()
    {
        var queue = new TimerQueue();
        var flow = new FaultyFlow(queue);
        flow.Timer.Schedule(Ms(10));
        queue.RunDue(Ms(10));
        Assert.False(flow.Timer.IsScheduled);
        flow.Timer.Schedule(Ms(20));
        queue.RunDue(Ms(20));
        Assert.Equal(2, queue.Faults.Total);
    }
}
