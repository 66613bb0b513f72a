using Usernet.Stack;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

public sealed class NeighbourTableTests
{
    private static readonly MacAddress MacA = new(0x02_00_00_00_00_0A);
    private static readonly MacAddress MacB = new(0x02_00_00_00_00_0B);
    private static readonly IpAddress Address = Ipv4Address.Parse("192.168.65.3");

    private readonly NeighbourTable _table = new();
    private readonly RecordingLink _one = new("one");
    private readonly RecordingLink _two = new("two");

    private static IpAddress Nth(int n) => new Ipv6Address(Ipv6Address.Parse("fdc4:f303:9324::1000").Value + (UInt128)n);

    [Fact]
    public void ALearnedAddressIsFoundWithItsMacAndLinkAndAnnouncedOnce()
    {
        var learned = new List<(IpAddress, Neighbour)>();
        _table.Learned += (address, neighbour) => learned.Add((address, neighbour));
        _table.Learn(Address, MacA, _one);
        _table.Learn(Address, MacA, _one);
        Assert.True(_table.TryGet(Address, out var neighbour));
        Assert.Equal(new Neighbour(MacA, _one), neighbour);
        Assert.Equal([(Address, new Neighbour(MacA, _one))], learned);
    }

    [Fact]
    public void AnAddressThatMovesToAnotherLinkIsForgottenWithThatLink()
    {
        // A lease that ended and went to a guest on another link.
        _table.Learn(Address, MacA, _one);
        _table.Learn(Address, MacB, _two);
        Assert.Empty(_table.Forget(_one));
        Assert.True(_table.TryGet(Address, out var neighbour));
        Assert.Equal(new Neighbour(MacB, _two), neighbour);
        Assert.Equal([Address], _table.Forget(_two));
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public void ALinkAtItsShareGivesUpItsOldestAddressAndNobodyElses()
    {
        _table.Learn(Address, MacB, _two);
        for (int i = 0; i < 1000; i++)
        {
            _table.Learn(Nth(i), MacA, _one);
        }
        Assert.Equal(NeighbourTable.PerLink + 1, _table.Count);
        Assert.False(_table.TryGet(Nth(0), out _));
        Assert.True(_table.TryGet(Nth(999), out _));
        Assert.True(_table.TryGet(Address, out var neighbour));
        Assert.Same(_two, neighbour.Link);
    }

    [Fact]
    public void AFullTableRefusesNewAddressesAndCountsThemRatherThanForgetEveryone()
    {
        var links = TestLinks.Fill(NeighbourTable.Capacity, NeighbourTable.PerLink, (n, link) => _table.Learn(Nth(n), MacA, link));
        _table.Learn(Address, MacB, _two);
        Assert.False(_table.TryGet(Address, out _));
        Assert.Equal(1, _table.Refused);
        Assert.True(_table.TryGet(Nth(0), out _));

        _table.Forget(links[0]);
        _table.Learn(Address, MacB, _two);
        Assert.True(_table.TryGet(Address, out _));
    }

    [Fact]
    public void RelearningAKnownAddressAllocatesNothing()
    {
        for (int i = 0; i < NeighbourTable.PerLink; i++)
        {
            _table.Learn(Nth(i), MacA, _one);
        }
        // Once to warm up (the runtime's own first-call and tier-up work allocates on this
        // thread, a few dozen bytes in all), then measured.
        Relearn(10_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Relearn(10_000);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    private void Relearn(int times)
    {
        for (int i = 0; i < times; i++)
        {
            _table.Learn(Nth(i % NeighbourTable.PerLink), MacA, _one);
            _table.TryGet(Nth(i % NeighbourTable.PerLink), out _);
        }
    }
}
