using Usernet.Link;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Link;

public sealed class AddressBindingsTests
{
    private static readonly Instant T0 = Instant.FromMilliseconds(10_000);
    private static readonly TimeSpan LeaseTime = TimeSpan.FromHours(1);
    private static readonly MacAddress MacA = new(0x02_00_00_00_00_0A);
    private static readonly MacAddress MacB = new(0x02_00_00_00_00_0B);
    private static readonly IpAddress Address = Ipv4Address.Parse("192.168.65.3");
    private static readonly IpAddress Address6 = Ipv6Address.Parse("fdc4:f303:9324::3");

    private readonly AddressBindings _bindings = new();
    private readonly RecordingLink _one = new("one");
    private readonly RecordingLink _two = new("two");

    private static IpAddress Nth(int n) => new Ipv6Address(Ipv6Address.Parse("fdc4:f303:9324::1000").Value + (UInt128)n);

    [Fact]
    public void AFreeAddressBecomesItsFirstUsersOnItsLink()
    {
        Assert.Equal(BindResult.Bound, _bindings.Claim(Address, MacA, _one, T0));
        Assert.Equal(BindResult.Known, _bindings.Claim(Address, MacA, _one, T0));
        Assert.Equal(BindResult.Taken, _bindings.Claim(Address, MacB, _two, T0));
        // The same MAC from another link is not the same guest (the switch would not let it through anyway).
        Assert.Equal(BindResult.Taken, _bindings.Claim(Address, MacA, _two, T0));
        Assert.Equal(MacA, _bindings.HolderOf(Address, T0));
    }

    [Fact]
    public void ALeaseBelongsToItsMacUntilItEnds()
    {
        _bindings.Lease(Address, MacA, T0, T0 + LeaseTime);
        Assert.Equal(BindResult.Known, _bindings.Claim(Address, MacA, _one, T0));
        Assert.Equal(BindResult.Taken, _bindings.Claim(Address, MacB, _two, T0 + (LeaseTime - TimeSpan.FromSeconds(1))));
        Assert.Equal(MacA, _bindings.HolderOf(Address, T0));

        // Once it has expired, whoever uses the address first has it.
        Assert.Null(_bindings.HolderOf(Address, T0 + LeaseTime));
        Assert.Equal(BindResult.Bound, _bindings.Claim(Address, MacB, _two, T0 + LeaseTime));
        Assert.Equal(MacB, _bindings.HolderOf(Address, T0 + LeaseTime));
    }

    [Fact]
    public void ALeaseReplacesAFirstUseAndARenewalMovesItsEnd()
    {
        _bindings.Claim(Address, MacA, _one, T0);
        _bindings.Lease(Address, MacA, T0, T0 + LeaseTime);
        _bindings.Lease(Address, MacA, T0 + LeaseTime / 2, T0 + LeaseTime * 1.5);
        Assert.Equal(BindResult.Taken, _bindings.Claim(Address, MacB, _two, T0 + LeaseTime));
    }

    [Fact]
    public void OnlyTheHolderEndsALease()
    {
        _bindings.Lease(Address, MacA, T0, T0 + LeaseTime);
        Assert.False(_bindings.EndLease(Address, MacB));
        Assert.Equal(MacA, _bindings.HolderOf(Address, T0));
        Assert.True(_bindings.EndLease(Address, MacA));
        Assert.Null(_bindings.HolderOf(Address, T0));
        Assert.False(_bindings.EndLease(Address, MacA));
    }

    [Fact]
    public void AReservationNeverEndsAndOutlivesItsLink()
    {
        _bindings.Reserve(Address, MacA);
        Assert.Equal(BindResult.Known, _bindings.Claim(Address, MacA, _one, T0));
        _bindings.Forget(_one, [MacA]);
        Assert.False(_bindings.EndLease(Address, MacA));
        Assert.Equal(BindResult.Taken, _bindings.Claim(Address, MacB, _two, T0 + TimeSpan.FromDays(10_000)));
    }

    [Fact]
    public void AClosedLinksAddressesAndItsMacsLeasesAreFreeAgain()
    {
        _bindings.Claim(Address6, MacA, _one, T0);
        _bindings.Lease(Address, MacA, T0, T0 + LeaseTime);
        _bindings.Claim(Nth(1), MacB, _two, T0);
        _bindings.Forget(_one, [MacA]);
        Assert.Null(_bindings.HolderOf(Address6, T0));
        Assert.Null(_bindings.HolderOf(Address, T0));
        Assert.Equal(MacB, _bindings.HolderOf(Nth(1), T0));
        Assert.Equal(BindResult.Bound, _bindings.Claim(Address, MacB, _two, T0));
    }

    [Fact]
    public void ALinkAtItsShareGivesUpItsLeastRecentlyUsedAddress()
    {
        for (int i = 0; i < AddressBindings.FirstUsePerLink; i++)
        {
            Assert.Equal(BindResult.Bound, _bindings.Claim(Nth(i), MacA, _one, T0 + TimeSpan.FromSeconds(i)));
        }
        _bindings.Claim(Nth(0), MacA, _one, T0 + TimeSpan.FromMinutes(5));
        Assert.Equal(BindResult.BoundEvicting, _bindings.Claim(Address6, MacA, _one, T0 + TimeSpan.FromMinutes(6)));
        Assert.Equal(MacA, _bindings.HolderOf(Nth(0), T0));
        Assert.Null(_bindings.HolderOf(Nth(1), T0));
        // A lease is not a first use: it takes no share.
        _bindings.Lease(Address, MacA, T0, T0 + LeaseTime);
        Assert.Equal(AddressBindings.FirstUsePerLink + 1, _bindings.Count);
    }

    [Fact]
    public void AFullTableRefusesNewAddressesAndTakesNoneAway()
    {
        var links = TestLinks.Fill(AddressBindings.Capacity, AddressBindings.FirstUsePerLink, (n, link) =>
            Assert.Equal(BindResult.Bound, _bindings.Claim(Nth(n), new MacAddress(0x02_F0_00_00_00_00UL | (uint)(n / AddressBindings.FirstUsePerLink)), link, T0)));
        Assert.Equal(BindResult.Full, _bindings.Claim(Address, MacA, _one, T0));
        Assert.Null(_bindings.HolderOf(Address, T0));
        // Leases are bounded by the servers' pools, not by this: one still binds.
        _bindings.Lease(Address, MacA, T0, T0 + LeaseTime);
        Assert.Equal(MacA, _bindings.HolderOf(Address, T0));

        _bindings.Forget(links[0], []);
        Assert.Equal(BindResult.Bound, _bindings.Claim(Address6, MacA, _one, T0));
    }

    [Fact]
    public void TheHolderOfAnEndedLeaseIsStillWhereTheGuestWasLastSeen()
    {
        _bindings.Lease(Address, MacA, T0, T0 + LeaseTime);
        Assert.True(_bindings.TryGetHolder(Address, out var mac, out var link));
        Assert.Equal((MacA, null), (mac, link));
        _bindings.Claim(Address6, MacB, _two, T0);
        Assert.True(_bindings.TryGetHolder(Address6, out mac, out link));
        Assert.Equal((MacB, _two), (mac, link));
        Assert.False(_bindings.TryGetHolder(Nth(7), out _, out _));
    }

    [Fact]
    public void ClaimingABoundAddressAllocatesNothing()
    {
        _bindings.Claim(Address, MacA, _one, T0);
        _bindings.Lease(Address6, MacA, T0, T0 + LeaseTime);
        var now = T0;
        void Reclaim()
        {
            for (int i = 0; i < 10_000; i++)
            {
                now += TimeSpan.FromMilliseconds(1);
                _bindings.Claim(Address, MacA, _one, now);
                _bindings.Claim(Address6, MacA, _one, now);
                _bindings.Claim(Address, MacB, _two, now);
            }
        }
        // Once to warm up (the runtime's own first-call and tier-up work allocates on this
        // thread: a loaded run once counted 88 bytes), then measured.
        Reclaim();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Reclaim();
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
