using Usernet.Link;
using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>A guest address, the MAC that answers for it, and the link it sits behind.</summary>
internal readonly record struct Neighbour(MacAddress Mac, FrameLink Link);

/// <summary>
/// Guest IP to MAC, learned from ARP and from every packet a guest sends (which the switch's
/// <see cref="SourceGuard"/> let through: the address was that MAC's to use). Bounded per link
/// and in all, so that no guest can flush the others' entries: a link that already has
/// <see cref="PerLink"/> addresses gives up its oldest for a new one, and when the table is
/// full, new addresses wait until a link closes. Learning an address already known allocates
/// nothing.
/// </summary>
internal sealed class NeighbourTable
{
    public const int Capacity = 4096;

    /// <summary>
    /// Addresses learned behind one link: the switch lets a link hold
    /// <see cref="AddressBindings.FirstUsePerLink"/> addresses by first use, and a few leases.
    /// </summary>
    public const int PerLink = 64;

    private readonly Dictionary<IpAddress, Neighbour> _entries = new();

    /// <summary>Each link's addresses, oldest first.</summary>
    private readonly Dictionary<FrameLink, List<IpAddress>> _byLink = new();

    public int Count => _entries.Count;

    /// <summary>New addresses not learned because the table was full.</summary>
    public long Refused { get; private set; }

    /// <summary>Raised when an address's MAC becomes known (frames held for it can go).</summary>
    public event Action<IpAddress, Neighbour>? Learned;

    public void Learn(IpAddress address, MacAddress mac, FrameLink link)
    {
        bool known = _entries.TryGetValue(address, out var current);
        if (known && current.Mac == mac && current.Link == link)
        {
            return;
        }
        if (known && current.Link != link)
        {
            Unlist(address, current.Link);
        }
        if (!known || current.Link != link)
        {
            _byLink.TryGetValue(link, out var addresses);
            if (addresses is not null && addresses.Count >= PerLink)
            {
                _entries.Remove(addresses[0]);
                addresses.RemoveAt(0);
            }
            else if (_entries.Count >= Capacity && !known)
            {
                Refused++;
                return;
            }
            if (addresses is null)
            {
                addresses = new List<IpAddress>();
                _byLink[link] = addresses;
            }
            addresses.Add(address);
        }
        var neighbour = new Neighbour(mac, link);
        _entries[address] = neighbour;
        if (!known)
        {
            Learned?.Invoke(address, neighbour);
        }
    }

    public bool TryGet(IpAddress address, out Neighbour neighbour) => _entries.TryGetValue(address, out neighbour);

    /// <summary>Forgets the neighbours behind <paramref name="link"/>, and returns their addresses.</summary>
    public List<IpAddress> Forget(FrameLink link)
    {
        if (!_byLink.Remove(link, out var addresses))
        {
            return [];
        }
        foreach (var address in addresses)
        {
            _entries.Remove(address);
        }
        return addresses;
    }

    public IEnumerable<(IpAddress Address, Neighbour Neighbour)> All() => _entries.Select(e => (e.Key, e.Value));

    private void Unlist(IpAddress address, FrameLink link)
    {
        if (_byLink.TryGetValue(link, out var addresses))
        {
            addresses.Remove(address);
            if (addresses.Count == 0)
            {
                _byLink.Remove(link);
            }
        }
    }
}
