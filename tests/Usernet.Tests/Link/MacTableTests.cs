using Usernet.Link;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Link;

public sealed class MacTableTests
{
    private static readonly Instant T0 = Instant.FromMilliseconds(10_000);
    private static readonly MacAddress MacA = new(0x02_00_00_00_00_0A);

    private readonly MacTable _table = new();
    private readonly RecordingLink _one = new("one");
    private readonly RecordingLink _two = new("two");

    private static MacAddress Forged(int n) => new(0x02_F0_00_00_00_00UL | (uint)n);

    [Fact]
    public void AMacBelongsToTheFirstLinkThatSendsFromIt()
    {
        Assert.Equal(BindResult.Bound, _table.Learn(MacA, _one, T0));
        Assert.Equal(BindResult.Known, _table.Learn(MacA, _one, T0));
        Assert.Equal(BindResult.Taken, _table.Learn(MacA, _two, T0));
        Assert.True(_table.TryGetLink(MacA, out var link));
        Assert.Same(_one, link);
    }

    [Fact]
    public void ForgettingALinkFreesItsMacsForAnyLink()
    {
        _table.Learn(MacA, _one, T0);
        _table.Learn(Forged(1), _two, T0);
        Assert.Equal([MacA], _table.Forget(_one));
        Assert.False(_table.TryGetLink(MacA, out _));
        Assert.Equal(BindResult.Bound, _table.Learn(MacA, _two, T0));
        Assert.Empty(_table.Forget(_one));
    }

    [Fact]
    public void ALinkAtItsShareGivesUpItsLeastRecentlyUsedMac()
    {
        for (int i = 0; i < MacTable.PerLink; i++)
        {
            Assert.Equal(BindResult.Bound, _table.Learn(Forged(i), _one, T0 + TimeSpan.FromSeconds(i)));
        }
        // The first is used again, so the second is now the least recently used.
        _table.Learn(Forged(0), _one, T0 + TimeSpan.FromMinutes(5));
        Assert.Equal(BindResult.BoundEvicting, _table.Learn(MacA, _one, T0 + TimeSpan.FromMinutes(6)));
        Assert.True(_table.TryGetLink(Forged(0), out _));
        Assert.False(_table.TryGetLink(Forged(1), out _));
        Assert.Equal(MacTable.PerLink, _table.Count);
        // The MAC it gave up is free for another link.
        Assert.Equal(BindResult.Bound, _table.Learn(Forged(1), _two, T0));
    }

    [Fact]
    public void AFullTableRefusesNewMacsAndKeepsEveryEntry()
    {
        var links = TestLinks.Fill(MacTable.Capacity, MacTable.PerLink, (n, link) => Assert.Equal(BindResult.Bound, _table.Learn(Forged(n), link, T0)));
        Assert.Equal(BindResult.Full, _table.Learn(MacA, _one, T0));
        Assert.Equal(MacTable.Capacity, _table.Count);
        Assert.Equal(BindResult.Known, _table.Learn(Forged(0), links[0], T0));

        _table.Forget(links[1]);
        Assert.Equal(BindResult.Bound, _table.Learn(MacA, _one, T0));
    }

    [Fact]
    public void LearningAKnownMacAllocatesNothing()
    {
        for (int i = 0; i < MacTable.PerLink; i++)
        {
            _table.Learn(Forged(i), _one, T0);
        }
        var now = T0;
        void Relearn()
        {
            for (int i = 0; i < 10_000; i++)
            {
                now += TimeSpan.FromMilliseconds(1);
                _table.Learn(Forged(i % MacTable.PerLink), _one, now);
                _table.TryGetLink(Forged(i % MacTable.PerLink), out _);
            }
        }
        // Once to warm up (the runtime's own first-call and tier-up work allocates on this
        // thread), then measured.
        Relearn();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Relearn();
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
