using Usernet.Wire;

namespace Usernet.Link;

/// <summary>
/// Which MAC may send from each guest address on the LAN (source address validation, as
/// RFC 7039's SAVI and a switch's IP source guard do). An address is bound in one of three ways:
/// <list type="bullet">
/// <item>leased: the DHCP or DHCPv6 server gave it to a client MAC, until the lease ends or
/// the link behind which the MAC was closes;</item>
/// <item>reserved: `usernet run` configured it statically for its guest's MAC, for good;</item>
/// <item>first use: a guest sent from a free address (static, SLAAC, link-local); it stays
/// that MAC's, on that link, until the link closes.</item>
/// </list>
/// A lease is bound to the MAC, which <see cref="MacTable"/> binds to one open link. When the
/// link closes, its guest is gone and so are its bindings: a VM that comes back on a new link
/// with the same MAC claims its address again by using it, or by asking the DHCP server.
/// First-use bindings are bounded per link and in all, like the MAC table: a guest forging
/// sources only churns its own. Leases are bounded by the servers' pools; ended ones are pruned.
/// </summary>
internal sealed class AddressBindings
{
    /// <summary>First-use bindings kept in all.</summary>
    public const int Capacity = 4096;

    /// <summary>
    /// First-use addresses one link may hold: a guest uses an IPv4 address and a few IPv6 ones
    /// (link-local, SLAAC, a temporary address a day kept for a week, RFC 8981 §3.8), more with
    /// containers bridged onto the LAN.
    /// </summary>
    public const int FirstUsePerLink = 32;

    /// <summary>Leases and reservations kept before ended leases are pruned.</summary>
    private const int LeaseCapacity = 4096;

    private enum Kind
    {
        FirstUse,
        Leased,
        Reserved,
    }

    private sealed class Binding(IpAddress address, MacAddress mac, FrameLink? link, Kind kind, Instant expires)
    {
        public readonly IpAddress Address = address;
        public readonly MacAddress Mac = mac;

        /// <summary>The link, for a first-use binding; a lease follows its MAC to whichever link owns it.</summary>
        public readonly FrameLink? Link = link;

        public readonly Kind Kind = kind;
        public readonly Instant Expires = expires;
        public Instant LastUse;

        public bool IsLive(Instant now) => Kind != Kind.Leased || Expires > now;
    }

    private readonly Dictionary<IpAddress, Binding> _bindings = new();
    private readonly Dictionary<FrameLink, List<Binding>> _firstUse = new();
    private int _firstUseCount;

    public int Count => _bindings.Count;

    /// <summary>
    /// Whether <paramref name="mac"/> on <paramref name="link"/> may send from
    /// <paramref name="address"/>; a free address becomes its by first use. Allocates only for
    /// an address it binds.
    /// </summary>
    public BindResult Claim(IpAddress address, MacAddress mac, FrameLink link, Instant now)
    {
        if (_bindings.TryGetValue(address, out var binding))
        {
            if (binding.IsLive(now))
            {
                if (binding.Mac != mac || (binding.Link is not null && binding.Link != link))
                {
                    return BindResult.Taken;
                }
                binding.LastUse = now;
                return BindResult.Known;
            }
            Remove(binding);
        }
        var result = BindResult.Bound;
        _firstUse.TryGetValue(link, out var owned);
        if (owned is not null && owned.Count >= FirstUsePerLink)
        {
            Remove(LeastRecentlyUsed(owned));
            result = BindResult.BoundEvicting;
        }
        else if (_firstUseCount >= Capacity)
        {
            return BindResult.Full;
        }
        if (owned is null)
        {
            owned = new List<Binding>();
            _firstUse[link] = owned;
        }
        binding = new Binding(address, mac, link, Kind.FirstUse, Instant.Never) { LastUse = now };
        _bindings.Add(address, binding);
        owned.Add(binding);
        _firstUseCount++;
        return result;
    }

    /// <summary>
    /// The DHCP server leased <paramref name="address"/> to <paramref name="mac"/> until
    /// <paramref name="expires"/> (or renewed it). The server checks <see cref="HolderOf"/> first:
    /// this replaces whatever binding the address had.
    /// </summary>
    public void Lease(IpAddress address, MacAddress mac, Instant now, Instant expires)
    {
        if (_bindings.TryGetValue(address, out var old))
        {
            Remove(old);
        }
        if (_bindings.Count - _firstUseCount >= LeaseCapacity)
        {
            PruneEndedLeases(now);
        }
        _bindings.Add(address, new Binding(address, mac, null, Kind.Leased, expires) { LastUse = now });
    }

    /// <summary>A fixed binding, for the guest `usernet run` configures statically.</summary>
    public void Reserve(IpAddress address, MacAddress mac)
    {
        if (_bindings.TryGetValue(address, out var old))
        {
            Remove(old);
        }
        _bindings.Add(address, new Binding(address, mac, null, Kind.Reserved, Instant.Never));
    }

    /// <summary>Ends <paramref name="mac"/>'s lease on <paramref name="address"/> (released or declined); false if it held none.</summary>
    public bool EndLease(IpAddress address, MacAddress mac)
    {
        if (_bindings.TryGetValue(address, out var binding) && binding.Kind == Kind.Leased && binding.Mac == mac)
        {
            Remove(binding);
            return true;
        }
        return false;
    }

    /// <summary>The MAC that may send from <paramref name="address"/> now, if any.</summary>
    public MacAddress? HolderOf(IpAddress address, Instant now) =>
        _bindings.TryGetValue(address, out var binding) && binding.IsLive(now) ? binding.Mac : null;

    /// <summary>
    /// The MAC last bound to <paramref name="address"/> (even by a lease that ended: the guest is
    /// likely still there), and for a first-use binding its link.
    /// </summary>
    public bool TryGetHolder(IpAddress address, out MacAddress mac, out FrameLink? link)
    {
        if (_bindings.TryGetValue(address, out var binding))
        {
            (mac, link) = (binding.Mac, binding.Link);
            return true;
        }
        (mac, link) = (default, null);
        return false;
    }

    /// <summary>
    /// Lets go of what a link that closed held: its first-use addresses, and the leases of the
    /// MACs it owned (<paramref name="macs"/>). Reservations stay.
    /// </summary>
    public void Forget(FrameLink link, IReadOnlyCollection<MacAddress> macs)
    {
        if (_firstUse.Remove(link, out var owned))
        {
            foreach (var binding in owned)
            {
                _bindings.Remove(binding.Address);
            }
            _firstUseCount -= owned.Count;
        }
        if (macs.Count == 0)
        {
            return;
        }
        foreach (var binding in _bindings.Values.Where(b => b.Kind == Kind.Leased && macs.Contains(b.Mac)).ToList())
        {
            Remove(binding);
        }
    }

    private static Binding LeastRecentlyUsed(List<Binding> owned)
    {
        var oldest = owned[0];
        foreach (var binding in owned)
        {
            if (binding.LastUse < oldest.LastUse)
            {
                oldest = binding;
            }
        }
        return oldest;
    }

    private void PruneEndedLeases(Instant now)
    {
        foreach (var binding in _bindings.Values.Where(b => !b.IsLive(now)).ToList())
        {
            Remove(binding);
        }
    }

    private void Remove(Binding binding)
    {
        _bindings.Remove(binding.Address);
        if (binding.Kind == Kind.FirstUse && _firstUse.TryGetValue(binding.Link!, out var owned) && owned.Remove(binding))
        {
            _firstUseCount--;
            if (owned.Count == 0)
            {
                _firstUse.Remove(binding.Link!);
            }
        }
    }
}
