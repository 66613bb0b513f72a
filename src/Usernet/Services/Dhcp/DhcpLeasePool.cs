using System.Text.Json;
using Usernet.Wire;

namespace Usernet.Services.Dhcp;

/// <summary>Counters of the lease pool.</summary>
internal sealed class DhcpPoolCounters
{
    public long Offers;
    public long Bound;
    public long Released;
    public long Declined;
    public long OffersEvicted;
    public long Exhausted;

    /// <summary>Writes the counters reported into the object being written (the DHCP server's, so named apart from its own).</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("poolExhausted", Exhausted);
        writer.WriteNumber("offersEvicted", OffersEvicted);
    }
}

/// <summary>
/// The addresses the DHCP server hands out. Bounded by the range and a maximum count. When
/// full, expired leases and then unconfirmed offers are reclaimed, oldest first; a bound,
/// unexpired lease is never taken away, so a flood of DISCOVERs from random MACs can churn
/// offers but cannot evict a real guest. Time is explicit.
/// </summary>
internal sealed class DhcpLeasePool
{
    /// <summary>How long an offer holds its address for the client's REQUEST.</summary>
    public static readonly TimeSpan OfferHold = TimeSpan.FromSeconds(30);

    /// <summary>How long a declined (in use elsewhere) address sits out (RFC 2131 §3.1.5).</summary>
    public static readonly TimeSpan DeclineHold = TimeSpan.FromMinutes(5);

    private readonly List<Ipv4Address> _addresses;
    private readonly Dictionary<MacAddress, DhcpLease> _byClient = new();
    private readonly Dictionary<Ipv4Address, DhcpLease> _byAddress = new();
    private int _cursor;

    /// <param name="first">First address of the range.</param>
    /// <param name="last">Last address of the range.</param>
    /// <param name="excluded">Addresses in the range that are not for guests (gateway, host).</param>
    /// <param name="maxLeases">At most this many addresses are ever handed out.</param>
    public DhcpLeasePool(Ipv4Address first, Ipv4Address last, IEnumerable<Ipv4Address> excluded, int maxLeases)
    {
        var skip = excluded.ToHashSet();
        _addresses = new List<Ipv4Address>();
        for (uint value = first.Value; value <= last.Value && _addresses.Count < maxLeases; value++)
        {
            var address = new Ipv4Address(value);
            if (!skip.Contains(address))
            {
                _addresses.Add(address);
            }
            if (value == uint.MaxValue)
            {
                break;
            }
        }
    }

    public DhcpPoolCounters Counters { get; } = new();

    public int Capacity => _addresses.Count;

    public int Count => _byAddress.Count;

    /// <summary>How full the pool is, and its counters, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("leases", Count);
        writer.WriteNumber("poolCapacity", Capacity);
        Counters.WriteJson(writer);
    }

    public bool Contains(Ipv4Address address) => _addresses.BinarySearch(address) >= 0;

    public IEnumerable<DhcpLease> Leases => _byAddress.Values;

    /// <summary>A fixed binding, as `usernet run` makes for the guest it configures statically.</summary>
    public void Reserve(MacAddress client, Ipv4Address address)
    {
        Remove(client);
        if (_byAddress.TryGetValue(address, out var holder))
        {
            Remove(holder);
        }
        Add(new DhcpLease(client, address) { State = DhcpLeaseState.Reserved, Expires = Instant.Never });
    }

    /// <summary>
    /// Picks an address for <paramref name="client"/>: its current one, else the one it asks
    /// for if free, else the next free one. Returns null when the pool is exhausted.
    /// </summary>
    public Ipv4Address? Offer(MacAddress client, Ipv4Address requested, Instant now)
    {
        if (_byClient.TryGetValue(client, out var existing) && existing.State != DhcpLeaseState.Declined)
        {
            if (existing.State == DhcpLeaseState.Offered || !existing.IsLive(now))
            {
                existing.State = DhcpLeaseState.Offered;
                existing.Expires = now + OfferHold;
            }
            Counters.Offers++;
            return existing.Address;
        }
        Ipv4Address? address = null;
        if (Contains(requested) && IsFree(requested, now))
        {
            address = requested;
        }
        address ??= NextFree(now) ?? Reclaim(now);
        if (address is not { } chosen)
        {
            Counters.Exhausted++;
            return null;
        }
        Release(chosen);
        Remove(client);
        Add(new DhcpLease(client, chosen) { State = DhcpLeaseState.Offered, Expires = now + OfferHold });
        Counters.Offers++;
        return chosen;
    }

    /// <summary>
    /// Binds <paramref name="address"/> to <paramref name="client"/> for <paramref name="leaseTime"/>.
    /// False when the address is not ours to give or is held by another client.
    /// </summary>
    public bool Bind(MacAddress client, Ipv4Address address, TimeSpan leaseTime, Instant now)
    {
        if (!Contains(address))
        {
            return false;
        }
        if (_byAddress.TryGetValue(address, out var holder))
        {
            if (holder.Client != client)
            {
                // Another client's unconfirmed offer yields to a client that asks for the
                // address outright; a live binding, reservation or decline does not.
                if (holder.IsLive(now) && holder.State != DhcpLeaseState.Offered)
                {
                    return false;
                }
                Remove(holder);
                if (holder.State == DhcpLeaseState.Offered)
                {
                    Counters.OffersEvicted++;
                }
            }
            else if (holder.State == DhcpLeaseState.Declined)
            {
                return false;
            }
        }
        if (_byClient.TryGetValue(client, out var previous) && previous.Address != address)
        {
            if (previous.State == DhcpLeaseState.Reserved)
            {
                return false;
            }
            Remove(previous);
        }
        if (!_byAddress.TryGetValue(address, out var lease))
        {
            lease = new DhcpLease(client, address);
            Add(lease);
        }
        if (lease.State != DhcpLeaseState.Reserved)
        {
            lease.State = DhcpLeaseState.Bound;
            lease.Expires = now + leaseTime;
        }
        Counters.Bound++;
        return true;
    }

    /// <summary>
    /// The client gives its address back (DHCPRELEASE), or chose another server. False, and
    /// nothing changes, when the address is not the client's: no client releases another's.
    /// </summary>
    public bool Release(MacAddress client, Ipv4Address address)
    {
        if (_byAddress.TryGetValue(address, out var lease) && lease.Client == client && lease.State != DhcpLeaseState.Reserved)
        {
            Remove(lease);
            Counters.Released++;
            return true;
        }
        return false;
    }

    /// <summary>
    /// The guest at <paramref name="address"/> is gone (its link closed): the address it was
    /// offered or bound goes back to the pool. A reservation and a declined address stay.
    /// </summary>
    public void ReleaseGone(Ipv4Address address)
    {
        if (_byAddress.TryGetValue(address, out var lease) && lease.State is DhcpLeaseState.Offered or DhcpLeaseState.Bound)
        {
            Remove(lease);
            Counters.Released++;
        }
    }

    /// <summary>
    /// The client found the address in use (DHCPDECLINE): nobody gets it for a while. False, and
    /// nothing changes, when the address is not the client's.
    /// </summary>
    public bool Decline(MacAddress client, Ipv4Address address, Instant now)
    {
        if (!_byAddress.TryGetValue(address, out var lease) || lease.Client != client || lease.State == DhcpLeaseState.Reserved)
        {
            return false;
        }
        SetAside(address, now);
        Counters.Declined++;
        return true;
    }

    /// <summary>
    /// Keeps <paramref name="address"/> out of offers for <see cref="DeclineHold"/>, as a declined
    /// one: a guest uses it without a lease (the server found it bound to another MAC). An
    /// unconfirmed offer on it is withdrawn.
    /// </summary>
    public void SetAside(Ipv4Address address, Instant now)
    {
        if (_byAddress.TryGetValue(address, out var lease))
        {
            Remove(lease);
        }
        Add(new DhcpLease(MacAddress.Zero, address) { State = DhcpLeaseState.Declined, Expires = now + DeclineHold });
    }

    public DhcpLease? LeaseOf(MacAddress client) => _byClient.GetValueOrDefault(client);

    public DhcpLease? HolderOf(Ipv4Address address) => _byAddress.GetValueOrDefault(address);

    private bool IsFree(Ipv4Address address, Instant now) =>
        !_byAddress.TryGetValue(address, out var lease) || !lease.IsLive(now);

    private Ipv4Address? NextFree(Instant now)
    {
        for (int i = 0; i < _addresses.Count; i++)
        {
            var address = _addresses[(_cursor + i) % _addresses.Count];
            if (IsFree(address, now))
            {
                _cursor = (_cursor + i + 1) % _addresses.Count;
                return address;
            }
        }
        return null;
    }

    /// <summary>With no free address, the oldest unconfirmed offer gives way.</summary>
    private Ipv4Address? Reclaim(Instant now)
    {
        DhcpLease? oldest = null;
        foreach (var lease in _byAddress.Values)
        {
            if (lease.State == DhcpLeaseState.Offered && (oldest is null || lease.Expires < oldest.Expires))
            {
                oldest = lease;
            }
        }
        if (oldest is null)
        {
            return null;
        }
        _ = now;
        Remove(oldest);
        Counters.OffersEvicted++;
        return oldest.Address;
    }

    /// <summary>Drops a dead lease on <paramref name="address"/> so that it can be handed out again.</summary>
    private void Release(Ipv4Address address)
    {
        if (_byAddress.TryGetValue(address, out var lease))
        {
            Remove(lease);
        }
    }

    private void Add(DhcpLease lease)
    {
        _byAddress[lease.Address] = lease;
        if (lease.State != DhcpLeaseState.Declined)
        {
            _byClient[lease.Client] = lease;
        }
    }

    private void Remove(MacAddress client)
    {
        if (_byClient.TryGetValue(client, out var lease))
        {
            Remove(lease);
        }
    }

    private void Remove(DhcpLease lease)
    {
        if (_byAddress.TryGetValue(lease.Address, out var atAddress) && atAddress == lease)
        {
            _byAddress.Remove(lease.Address);
        }
        if (_byClient.TryGetValue(lease.Client, out var ofClient) && ofClient == lease)
        {
            _byClient.Remove(lease.Client);
        }
    }
}
