using Usernet.Link;
using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>A guest address, the MAC that answers for it, and the link it sits behind.</summary>
internal readonly record struct Neighbour(MacAddress Mac, FrameLink Link);

/// <summary>
/// Guest IP to MAC, learned from ARP and from every packet a guest sends. Bounded: a guest
/// that forges sources cannot grow it past <see cref="Capacity"/>.
/// </summary>
internal sealed class NeighbourTable
{
    public const int Capacity = 4096;

    private readonly Dictionary<IpAddress, Neighbour> _entries = new();

    public int Count => _entries.Count;

    /// <summary>Raised when an address's MAC becomes known (frames held for it can go).</summary>
    public event Action<IpAddress, Neighbour>? Learned;

    public void Learn(IpAddress address, MacAddress mac, FrameLink link)
    {
        if (_entries.TryGetValue(address, out var known) && known.Mac == mac && known.Link == link)
        {
            return;
        }
        bool isNew = !_entries.ContainsKey(address);
        if (_entries.Count >= Capacity && !_entries.ContainsKey(address))
        {
            _entries.Clear();
        }
        var neighbour = new Neighbour(mac, link);
        _entries[address] = neighbour;
        if (isNew)
        {
            Learned?.Invoke(address, neighbour);
        }
    }

    public bool TryGet(IpAddress address, out Neighbour neighbour) => _entries.TryGetValue(address, out neighbour);

    /// <summary>Forgets the neighbours behind <paramref name="link"/>, and returns their addresses.</summary>
    public List<IpAddress> Forget(FrameLink link)
    {
        var addresses = _entries.Where(e => e.Value.Link == link).Select(e => e.Key).ToList();
        foreach (var address in addresses)
        {
            _entries.Remove(address);
        }
        return addresses;
    }

    public IEnumerable<(IpAddress Address, Neighbour Neighbour)> All() => _entries.Select(e => (e.Key, e.Value));
}
