namespace Usernet.Services.Dns;

/// <summary>
/// Answers from the host resolver and from upstream servers, kept until their TTL runs out,
/// positive and negative alike (RFC 2308). Bounded in entries and in bytes, least recently
/// used out first. A hit allocates nothing. Loop thread only.
/// </summary>
internal sealed class DnsCache
{
    /// <summary>What an entry costs besides its records: the key, the objects, the list node.</summary>
    private const int EntryOverhead = 256;

    private readonly Dictionary<string, DnsAnswer> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DnsAnswer>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly LinkedList<DnsAnswer> _recency = new();
    private readonly int _capacity;
    private readonly long _maxBytes;

    /// <param name="capacity">Entries at most; 0 turns the cache off.</param>
    /// <param name="maxBytes">Bytes at most; by default 4 KiB an entry, and never over 64 MiB.</param>
    public DnsCache(int capacity, long? maxBytes = null)
    {
        _capacity = capacity;
        _maxBytes = maxBytes ?? Math.Min(capacity * 4096L, 64L << 20);
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _entries.Count;

    /// <summary>What the entries take, by the estimate that the byte bound uses.</summary>
    public long Bytes { get; private set; }

    public long Evictions { get; private set; }

    public bool TryGet(ReadOnlySpan<char> key, Instant now, out DnsAnswer answer)
    {
        if (!_bySpan.TryGetValue(key, out answer!))
        {
            return false;
        }
        if (now >= answer.Expires)
        {
            Remove(answer);
            return false;
        }
        var node = answer.CacheNode!;
        _recency.Remove(node);
        _recency.AddLast(node);
        return true;
    }

    /// <summary>Stores <paramref name="answer"/> (not stored elsewhere) under <paramref name="key"/>, replacing what was there.</summary>
    public void Add(ReadOnlySpan<char> key, DnsAnswer answer)
    {
        if (_capacity == 0 || answer.CacheNode is not null || Size(answer, key.Length) > _maxBytes)
        {
            return;
        }
        if (_bySpan.TryGetValue(key, out var existing))
        {
            Remove(existing);
        }
        string stored = key.ToString();
        answer.CacheKey = stored;
        answer.CacheNode = _recency.AddLast(answer);
        _entries[stored] = answer;
        Bytes += Size(answer, stored.Length);
        while (_entries.Count > _capacity || Bytes > _maxBytes)
        {
            Remove(_recency.First!.Value);
            Evictions++;
        }
    }

    public void Clear()
    {
        foreach (var answer in _entries.Values)
        {
            answer.CacheNode = null;
            answer.CacheKey = null;
        }
        _entries.Clear();
        _recency.Clear();
        Bytes = 0;
    }

    private void Remove(DnsAnswer answer)
    {
        _entries.Remove(answer.CacheKey!);
        _recency.Remove(answer.CacheNode!);
        Bytes -= Size(answer, answer.CacheKey!.Length);
        answer.CacheNode = null;
        answer.CacheKey = null;
    }

    private static long Size(DnsAnswer answer, int keyLength) =>
        EntryOverhead + answer.Records.Length + answer.TtlOffsets.Length * sizeof(int) + keyLength * sizeof(char);
}
