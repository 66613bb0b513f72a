using Usernet.Services.Dhcp;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dhcp;

public sealed class DhcpLeasePoolTests
{
    private static readonly Instant T0 = Instant.FromMilliseconds(10_000);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly MacAddress A = new(0x02_00_00_00_00_0A);
    private static readonly MacAddress B = new(0x02_00_00_00_00_0B);
    private static readonly MacAddress C = new(0x02_00_00_00_00_0C);
    private static readonly MacAddress D = new(0x02_00_00_00_00_0D);

    private static Ipv4Address At(int last) => Ipv4Address.FromBytes(192, 168, 65, (byte)last);

    /// <summary>.3, .4 and .6: .5 is excluded, as the gateway and host are in the real pool.</summary>
    private static DhcpLeasePool SmallPool() => new(At(3), At(6), [At(5)], maxLeases: 100);

    private static DhcpLeasePool PoolOf(int size) => new(At(3), At(2 + size), [], maxLeases: 100);

    [Fact]
    public void OffersTheRangeInOrderSkippingExcludedAddresses()
    {
        var pool = new DhcpLeasePool(At(1), At(8), [At(1), At(4), At(254)], maxLeases: 100);
        Assert.Equal(6, pool.Capacity);
        var offered = new[] { A, B, C, D }.Select(client => pool.Offer(client, Ipv4Address.Any, T0)).ToList();
        Assert.Equal([At(2), At(3), At(5), At(6)], offered);
        Assert.False(pool.Contains(At(1)));
        Assert.False(pool.Contains(At(4)));
        Assert.True(pool.Contains(At(8)));
        Assert.False(pool.Contains(At(9)));
    }

    [Fact]
    public void CapacityIsCappedByMaxLeases()
    {
        var pool = new DhcpLeasePool(At(3), At(254), [], maxLeases: 2);
        Assert.Equal(2, pool.Capacity);
        Assert.True(pool.Contains(At(4)));
        Assert.False(pool.Contains(At(5)));
        Assert.Equal(At(3), pool.Offer(A, Ipv4Address.Any, T0));
        Assert.True(pool.Bind(A, At(3), Hour, T0));
        Assert.Equal(At(4), pool.Offer(B, Ipv4Address.Any, T0));
        Assert.True(pool.Bind(B, At(4), Hour, T0));
        // Beyond the cap even a free address in the range is not handed out.
        Assert.Null(pool.Offer(C, At(5), T0));
        Assert.False(pool.Bind(C, At(5), Hour, T0));
        Assert.Equal(2, pool.Count);
    }

    [Fact]
    public void ARangeEndingAtTheTopOfTheAddressSpaceEnds()
    {
        var pool = new DhcpLeasePool(Ipv4Address.Parse("255.255.255.250"), Ipv4Address.Broadcast, [], maxLeases: 100);
        Assert.Equal(6, pool.Capacity);
    }

    [Fact]
    public void AnEmptyRangeOffersNothing()
    {
        var pool = new DhcpLeasePool(At(6), At(3), [], maxLeases: 100);
        Assert.Equal(0, pool.Capacity);
        Assert.Null(pool.Offer(A, Ipv4Address.Any, T0));
        Assert.Equal(1, pool.Counters.Exhausted);
    }

    [Fact]
    public void TheSameClientGetsTheSameAddress()
    {
        var pool = SmallPool();
        var first = pool.Offer(A, Ipv4Address.Any, T0);
        Assert.Equal(first, pool.Offer(A, Ipv4Address.Any, T0 + TimeSpan.FromSeconds(1)));
        // Even when it asks for another one: it already has an address here.
        Assert.Equal(first, pool.Offer(A, At(6), T0 + TimeSpan.FromSeconds(2)));
        Assert.Equal(1, pool.Count);

        Assert.True(pool.Bind(A, first!.Value, Hour, T0));
        var bound = pool.LeaseOf(A)!;
        Assert.Equal(first, pool.Offer(A, Ipv4Address.Any, T0 + TimeSpan.FromMinutes(1)));
        // A DISCOVER from a bound client does not turn its lease back into an offer.
        Assert.Equal(DhcpLeaseState.Bound, bound.State);
        Assert.Equal(T0 + Hour, bound.Expires);
    }

    [Fact]
    public void AClientWhoseLeaseRanOutGetsItsAddressBackIfStillFree()
    {
        var pool = SmallPool();
        var address = pool.Offer(A, Ipv4Address.Any, T0)!.Value;
        Assert.True(pool.Bind(A, address, Hour, T0));
        var later = T0 + Hour + TimeSpan.FromMinutes(5);
        Assert.Equal(address, pool.Offer(A, Ipv4Address.Any, later));
        Assert.Equal(DhcpLeaseState.Offered, pool.LeaseOf(A)!.State);
        Assert.Equal(later + DhcpLeasePool.OfferHold, pool.LeaseOf(A)!.Expires);
    }

    [Fact]
    public void TheRequestedAddressIsHonouredWhenFree()
    {
        var pool = SmallPool();
        Assert.Equal(At(6), pool.Offer(A, At(6), T0));
        Assert.Equal(At(3), pool.Offer(B, Ipv4Address.Any, T0));
    }

    [Fact]
    public void ARequestedAddressThatIsHeldExcludedOrOutsideIsNotGiven()
    {
        var pool = SmallPool();
        Assert.Equal(At(3), pool.Offer(A, Ipv4Address.Any, T0));
        Assert.Equal(At(4), pool.Offer(B, At(3), T0));
        Assert.Equal(At(6), pool.Offer(C, At(5), T0));
        var other = new DhcpLeasePool(At(3), At(6), [At(5)], maxLeases: 100);
        Assert.Equal(At(3), other.Offer(A, Ipv4Address.Parse("10.0.0.1"), T0));
    }

    [Fact]
    public void AnOfferHoldsItsAddressForOfferHold()
    {
        var pool = SmallPool();
        Assert.Equal(At(3), pool.Offer(A, Ipv4Address.Any, T0));
        var justBefore = new Instant((T0 + DhcpLeasePool.OfferHold).Nanoseconds - 1);
        Assert.NotEqual(At(3), pool.Offer(B, At(3), justBefore));

        // Unconfirmed at the end of the hold: the address is free again.
        Assert.Equal(At(3), pool.Offer(C, At(3), T0 + DhcpLeasePool.OfferHold));
        Assert.Null(pool.LeaseOf(A));
        Assert.Equal(C, pool.HolderOf(At(3))!.Client);
    }

    [Fact]
    public void BindTurnsTheOfferIntoALeaseAndRenewalExtendsIt()
    {
        var pool = SmallPool();
        var address = pool.Offer(A, Ipv4Address.Any, T0)!.Value;
        Assert.Equal(DhcpLeaseState.Offered, pool.LeaseOf(A)!.State);

        Assert.True(pool.Bind(A, address, Hour, T0 + TimeSpan.FromSeconds(1)));
        var lease = pool.LeaseOf(A)!;
        Assert.Equal(DhcpLeaseState.Bound, lease.State);
        Assert.Equal(T0 + TimeSpan.FromSeconds(1) + Hour, lease.Expires);

        var renewal = T0 + TimeSpan.FromMinutes(30);
        Assert.True(pool.Bind(A, address, Hour, renewal));
        Assert.Equal(renewal + Hour, pool.LeaseOf(A)!.Expires);
        Assert.Equal(2, pool.Counters.Bound);
        Assert.Equal(1, pool.Count);
    }

    [Fact]
    public void BindingAnotherAddressMovesTheClient()
    {
        var pool = SmallPool();
        Assert.True(pool.Bind(A, At(3), Hour, T0));
        Assert.True(pool.Bind(A, At(6), Hour, T0));
        Assert.Null(pool.HolderOf(At(3)));
        Assert.Equal(At(6), pool.LeaseOf(A)!.Address);
        Assert.Equal(1, pool.Count);
    }

    [Fact]
    public void AnAddressOutsideThePoolCannotBeBound()
    {
        var pool = SmallPool();
        Assert.False(pool.Bind(A, At(5), Hour, T0));
        Assert.False(pool.Bind(A, At(7), Hour, T0));
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public void ALiveBindingIsNeverTakenByAnotherClient()
    {
        var pool = PoolOf(1);
        Assert.True(pool.Bind(A, At(3), Hour, T0));

        var during = T0 + TimeSpan.FromMinutes(59);
        Assert.False(pool.Bind(B, At(3), Hour, during));
        Assert.Null(pool.Offer(B, At(3), during));
        Assert.Equal(A, pool.HolderOf(At(3))!.Client);
        Assert.Equal(DhcpLeaseState.Bound, pool.LeaseOf(A)!.State);

        // Once the lease has run out, the address is anyone's.
        Assert.True(pool.Bind(B, At(3), Hour, T0 + Hour));
        Assert.Null(pool.LeaseOf(A));
    }

    [Fact]
    public void AnotherClientsOfferYieldsToABind()
    {
        // INIT-REBOOT: a client that asks outright for an address wins over an unconfirmed offer.
        var pool = SmallPool();
        Assert.Equal(At(3), pool.Offer(A, Ipv4Address.Any, T0));
        Assert.True(pool.Bind(B, At(3), Hour, T0));
        Assert.Null(pool.LeaseOf(A));
        Assert.Equal(1, pool.Counters.OffersEvicted);
    }

    [Fact]
    public void ExhaustionReturnsNullAndCounts()
    {
        var pool = PoolOf(2);
        Assert.True(pool.Bind(A, At(3), Hour, T0));
        Assert.True(pool.Bind(B, At(4), Hour, T0));
        Assert.Null(pool.Offer(C, Ipv4Address.Any, T0));
        Assert.Null(pool.Offer(D, Ipv4Address.Any, T0));
        Assert.Equal(2, pool.Counters.Exhausted);
        Assert.Null(pool.LeaseOf(C));
        Assert.Equal(2, pool.Count);
    }

    [Fact]
    public void AFullPoolEvictsTheOldestOfferNeverABoundLease()
    {
        var pool = SmallPool();
        Assert.True(pool.Bind(A, At(3), Hour, T0));
        Assert.Equal(At(4), pool.Offer(B, Ipv4Address.Any, T0));
        Assert.Equal(At(6), pool.Offer(C, Ipv4Address.Any, T0 + TimeSpan.FromSeconds(1)));

        // Full: B's offer is the oldest, so D gets its address.
        Assert.Equal(At(4), pool.Offer(D, Ipv4Address.Any, T0 + TimeSpan.FromSeconds(2)));
        Assert.Null(pool.LeaseOf(B));
        Assert.Equal(1, pool.Counters.OffersEvicted);

        // B comes back: now C's is the oldest offer.
        Assert.Equal(At(6), pool.Offer(B, Ipv4Address.Any, T0 + TimeSpan.FromSeconds(3)));
        Assert.Null(pool.LeaseOf(C));
        Assert.Equal(A, pool.HolderOf(At(3))!.Client);
        Assert.Equal(DhcpLeaseState.Bound, pool.LeaseOf(A)!.State);
    }

    [Fact]
    public void AFloodOfDiscoversCannotEvictABoundClient()
    {
        var pool = SmallPool();
        Assert.True(pool.Bind(A, At(4), Hour, T0));
        var random = new Random(1);
        for (int i = 0; i < 10_000; i++)
        {
            var forged = new MacAddress(0x02_00_00_00_00_00 | (ulong)random.NextInt64(1, 1L << 40));
            pool.Offer(forged, At(4), T0 + TimeSpan.FromMilliseconds(i));
            Assert.True(pool.Count <= pool.Capacity);
        }
        Assert.Equal(At(4), pool.LeaseOf(A)!.Address);
        Assert.Equal(DhcpLeaseState.Bound, pool.LeaseOf(A)!.State);
        Assert.Equal(At(4), pool.Offer(A, Ipv4Address.Any, T0 + TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public void DeclineQuarantinesTheAddressForDeclineHold()
    {
        var pool = PoolOf(2);
        Assert.Equal(At(3), pool.Offer(A, Ipv4Address.Any, T0));
        pool.Decline(A, At(3), T0);
        Assert.Equal(1, pool.Counters.Declined);
        Assert.Null(pool.LeaseOf(A));
        Assert.Equal(DhcpLeaseState.Declined, pool.HolderOf(At(3))!.State);

        // Nobody gets it, not even on request, and it is no offer to reclaim.
        Assert.Equal(At(4), pool.Offer(A, At(3), T0 + TimeSpan.FromSeconds(1)));
        Assert.True(pool.Bind(A, At(4), Hour, T0 + TimeSpan.FromSeconds(1)));
        Assert.False(pool.Bind(B, At(3), Hour, T0 + TimeSpan.FromSeconds(2)));
        Assert.Null(pool.Offer(B, Ipv4Address.Any, new Instant((T0 + DhcpLeasePool.DeclineHold).Nanoseconds - 1)));

        Assert.Equal(At(3), pool.Offer(B, Ipv4Address.Any, T0 + DhcpLeasePool.DeclineHold));
    }

    [Fact]
    public void OnlyTheHolderCanDeclineOrRelease()
    {
        var pool = SmallPool();
        Assert.True(pool.Bind(A, At(3), Hour, T0));
        pool.Decline(B, At(3), T0);
        pool.Release(B, At(3));
        Assert.Equal(A, pool.HolderOf(At(3))!.Client);
        Assert.Equal(0, pool.Counters.Declined);
        Assert.Equal(0, pool.Counters.Released);
    }

    [Fact]
    public void ReleaseFreesTheAddress()
    {
        var pool = SmallPool();
        Assert.True(pool.Bind(A, At(3), Hour, T0));
        pool.Release(A, At(3));
        Assert.Equal(1, pool.Counters.Released);
        Assert.Null(pool.LeaseOf(A));
        Assert.Null(pool.HolderOf(At(3)));
        Assert.Equal(At(3), pool.Offer(B, At(3), T0));
    }

    [Fact]
    public void AReservedClientAlwaysGetsItsAddress()
    {
        var pool = SmallPool();
        pool.Reserve(A, At(4));
        var lease = pool.LeaseOf(A)!;
        Assert.Equal(DhcpLeaseState.Reserved, lease.State);
        Assert.Equal(Instant.Never, lease.Expires);

        var random = new Random(2);
        for (int i = 0; i < 5_000; i++)
        {
            var forged = new MacAddress(0x02_00_00_00_00_00 | (ulong)random.NextInt64(1, 1L << 40));
            pool.Offer(forged, At(4), T0 + TimeSpan.FromMilliseconds(i));
            pool.Bind(forged, At(4), Hour, T0 + TimeSpan.FromMilliseconds(i));
        }
        var muchLater = T0 + TimeSpan.FromDays(400);
        Assert.Equal(At(4), pool.Offer(A, Ipv4Address.Any, muchLater));
        Assert.True(pool.Bind(A, At(4), Hour, muchLater));
        Assert.Same(lease, pool.LeaseOf(A));
        Assert.Equal(DhcpLeaseState.Reserved, lease.State);

        // It cannot be given up, declined or swapped for another address.
        pool.Release(A, At(4));
        pool.Decline(A, At(4), muchLater);
        Assert.False(pool.Bind(A, At(3), Hour, muchLater));
        Assert.Same(lease, pool.HolderOf(At(4)));
    }

    [Fact]
    public void AReservationTakesTheAddressFromWhoeverHeldIt()
    {
        var pool = SmallPool();
        Assert.True(pool.Bind(B, At(3), Hour, T0));
        pool.Reserve(A, At(3));
        Assert.Null(pool.LeaseOf(B));
        Assert.Equal(A, pool.HolderOf(At(3))!.Client);

        // A second reservation moves the client; the old address is free.
        pool.Reserve(A, At(6));
        Assert.Null(pool.HolderOf(At(3)));
        Assert.Equal(At(6), pool.LeaseOf(A)!.Address);
        Assert.Equal(1, pool.Count);
    }

    [Fact]
    public void AGoneGuestsOfferAndLeaseAreReleasedButAReservationAndADeclineStay()
    {
        var pool = PoolOf(10);
        var offered = pool.Offer(A, Ipv4Address.Any, T0)!.Value;
        var bound = pool.Offer(B, Ipv4Address.Any, T0)!.Value;
        Assert.True(pool.Bind(B, bound, Hour, T0));
        pool.Reserve(C, At(9));
        var declined = pool.Offer(D, Ipv4Address.Any, T0)!.Value;
        pool.Decline(D, declined, T0);

        foreach (var address in new[] { offered, bound, At(9), declined })
        {
            pool.ReleaseGone(address);
        }

        Assert.Null(pool.HolderOf(offered));
        Assert.Null(pool.HolderOf(bound));
        Assert.Equal(C, pool.HolderOf(At(9))!.Client);
        Assert.Equal(DhcpLeaseState.Declined, pool.HolderOf(declined)!.State);
        Assert.Equal(2, pool.Counters.Released);
    }
}
