using Usernet.Wire;

namespace Usernet.Stack.Egress;

/// <summary>
/// Which names the DNS server gave the guests each address for, so that a domain rule holds
/// for a connection by address too: an address counts as a name's for the answer's TTL plus
/// <see cref="Grace"/> (a client that caches a little past the TTL still connects). One table
/// for all guests of an instance. Bounded: at most <see cref="Capacity"/> addresses, the
/// oldest going first, and <see cref="NamesPerAddress"/> names each, the one that expires
/// first making room. Written on the loop (the DNS server's answers), read there and on the
/// proxy's threads, so it locks; a lookup allocates nothing.
/// </summary>
internal sealed class EgressNameTable(int capacity = 8192)
{
    public const int NamesPerAddress = 4;

    /// <summary>How long past its TTL an answer still counts.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    private readonly Dictionary<IpAddress, Entry> _entries = new();
    private readonly Queue<(IpAddress Address, Entry Entry)> _order = new();
    private readonly Lock _gate = new();

    public int Capacity => capacity;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Records that the DNS server answered <paramref name="name"/> with <paramref name="address"/>, valid for <paramref name="ttl"/>.</summary>
    public void Add(IpAddress address, string name, TimeSpan ttl, Instant now)
    {
        var expires = now + ttl + Grace;
        lock (_gate)
        {
            if (!_entries.TryGetValue(address, out var entry))
            {
                // An address evicted and learned again is queued twice: only its live entry counts.
                while (_entries.Count >= capacity && _order.TryDequeue(out var oldest))
                {
                    if (_entries.TryGetValue(oldest.Address, out var live) && live == oldest.Entry)
                    {
                        _entries.Remove(oldest.Address);
                    }
                }
                entry = new Entry();
                _entries[address] = entry;
                _order.Enqueue((address, entry));
            }
            entry.Add(name, expires);
        }
    }

    /// <summary>Whether a name the address was given for, still valid at <paramref name="now"/>, matches a domain rule.</summary>
    public bool AnyName(IpAddress address, Instant now, string domain, EgressTargetKind kind)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(address, out var entry))
            {
                return false;
            }
            for (int i = 0; i < NamesPerAddress; i++)
            {
                if (entry.Names[i] is { } name && entry.Expires[i] > now && EgressPolicy.NameMatches(domain, kind, name))
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>The valid names of an address, for logs and tests.</summary>
    public IReadOnlyList<string> NamesOf(IpAddress address, Instant now)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(address, out var entry)
                ? Enumerable.Range(0, NamesPerAddress).Where(i => entry.Names[i] is not null && entry.Expires[i] > now).Select(i => entry.Names[i]!).ToList()
                : [];
        }
    }

    private sealed class Entry
    {
        public readonly string?[] Names = new string?[NamesPerAddress];
        public readonly Instant[] Expires = new Instant[NamesPerAddress];

        /// <summary>Renews the name if held, else takes the slot that expires first.</summary>
        public void Add(string name, Instant expires)
        {
            int slot = 0;
            for (int i = 0; i < NamesPerAddress; i++)
            {
                if (Names[i] is { } held && held.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    Expires[i] = Instant.Max(Expires[i], expires);
                    return;
                }
                if (Expires[i] < Expires[slot])
                {
                    slot = i;
                }
            }
            Names[slot] = name;
            Expires[slot] = expires;
        }
    }
}
