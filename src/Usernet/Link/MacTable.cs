using Usernet.Wire;

namespace Usernet.Link;

/// <summary>
/// The switch's MAC table, with port security: a MAC is bound to the link that first sent
/// from it, and a frame from that MAC on any other link is refused, until the owning link
/// closes. Bindings do not age: an idle guest is still a guest, and a binding that timed out
/// would let a patient neighbour take a quiet VM's MAC. A VM that reconnects on a new link
/// gets its MAC back as soon as the old link has closed (a datagram peer, which never says
/// goodbye, closes when its listener forgets it for a newer one).
///
/// Bounded twice, so that a flood of forged sources cannot flush it: each link owns at most
/// <see cref="PerLink"/> MACs, and a new one beyond that displaces the link's own least
/// recently used MAC (a VM churning containers' MACs keeps working; a flooding guest only
/// churns its own entries); and when the whole table is full, frames from new MACs are
/// dropped rather than any live link's entry evicted.
/// </summary>
internal sealed class MacTable
{
    /// <summary>MACs kept in all.</summary>
    public const int Capacity = 4096;

    /// <summary>
    /// MACs one link may own: a VM has one per NIC, plus one per container or nested VM it
    /// bridges onto the LAN (macvlan); 64 leaves room for those.
    /// </summary>
    public const int PerLink = 64;

    private sealed class Entry(MacAddress mac, FrameLink link)
    {
        public readonly MacAddress Mac = mac;
        public readonly FrameLink Link = link;
        public Instant LastUse;
    }

    private readonly Dictionary<MacAddress, Entry> _entries = new();
    private readonly Dictionary<FrameLink, List<Entry>> _byLink = new();

    public int Count => _entries.Count;

    /// <summary>
    /// Binds <paramref name="mac"/> to <paramref name="link"/> if it is free, and says whether
    /// the link may send from it. Allocates only for a MAC it has not seen.
    /// </summary>
    public BindResult Learn(MacAddress mac, FrameLink link, Instant now)
    {
        if (_entries.TryGetValue(mac, out var entry))
        {
            if (entry.Link != link)
            {
                return BindResult.Taken;
            }
            entry.LastUse = now;
            return BindResult.Known;
        }
        var result = BindResult.Bound;
        _byLink.TryGetValue(link, out var owned);
        if (owned is not null && owned.Count >= PerLink)
        {
            Remove(owned, LeastRecentlyUsed(owned));
            result = BindResult.BoundEvicting;
        }
        else if (_entries.Count >= Capacity)
        {
            return BindResult.Full;
        }
        if (owned is null)
        {
            owned = new List<Entry>();
            _byLink[link] = owned;
        }
        entry = new Entry(mac, link) { LastUse = now };
        _entries.Add(mac, entry);
        owned.Add(entry);
        return result;
    }

    /// <summary>The link that owns <paramref name="mac"/>, if any.</summary>
    public bool TryGetLink(MacAddress mac, out FrameLink link)
    {
        if (_entries.TryGetValue(mac, out var entry))
        {
            link = entry.Link;
            return true;
        }
        link = null!;
        return false;
    }

    /// <summary>Releases the MACs of a link that closed, which are free for any link now, and returns them.</summary>
    public List<MacAddress> Forget(FrameLink link)
    {
        if (!_byLink.Remove(link, out var owned))
        {
            return [];
        }
        var macs = new List<MacAddress>(owned.Count);
        foreach (var entry in owned)
        {
            _entries.Remove(entry.Mac);
            macs.Add(entry.Mac);
        }
        return macs;
    }

    private static int LeastRecentlyUsed(List<Entry> owned)
    {
        int oldest = 0;
        for (int i = 1; i < owned.Count; i++)
        {
            if (owned[i].LastUse < owned[oldest].LastUse)
            {
                oldest = i;
            }
        }
        return oldest;
    }

    private void Remove(List<Entry> owned, int index)
    {
        _entries.Remove(owned[index].Mac);
        owned.RemoveAt(index);
    }
}
