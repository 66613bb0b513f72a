namespace Usernet.Services.Dns;

/// <summary>Where an answer came from, for the counters.</summary>
internal enum DnsAnswerSource
{
    /// <summary>Usernet's own names: the built-in ones and the records added to them.</summary>
    Local,

    /// <summary>The host's getaddrinfo.</summary>
    Host,

    /// <summary>A nameserver the query was forwarded to.</summary>
    Upstream,
}

/// <summary>
/// Everything of a response after its question: the RCODE, the section counts and the records,
/// ready to be copied behind any client's header and question. Names in
/// <see cref="Records"/> may point into the question (offset 12) and into the records
/// themselves, so the records are valid behind any question of the same name length, which
/// every query with the same name has. Immutable once made, and shared by every response that
/// uses it; the cache adds the bookkeeping.
/// </summary>
internal sealed class DnsAnswer
{
    public DnsAnswer(
        byte responseCode, ushort answerCount, ushort authorityCount, ushort additionalCount,
        byte[] records, int[] ttlOffsets, DnsAnswerSource source, Instant stored, Instant expires)
    {
        ResponseCode = responseCode;
        AnswerCount = answerCount;
        AuthorityCount = authorityCount;
        AdditionalCount = additionalCount;
        Records = records;
        TtlOffsets = ttlOffsets;
        Source = source;
        Stored = stored;
        Expires = expires;
    }

    public byte ResponseCode { get; }

    public ushort AnswerCount { get; }

    public ushort AuthorityCount { get; }

    public ushort AdditionalCount { get; }

    /// <summary>The answer, authority and additional records, in that order.</summary>
    public byte[] Records { get; }

    /// <summary>Where each record's TTL is in <see cref="Records"/>: lowered by the time spent in the cache when served.</summary>
    public int[] TtlOffsets { get; }

    public DnsAnswerSource Source { get; }

    public Instant Stored { get; }

    /// <summary>When a cached copy is no longer served: its smallest TTL after <see cref="Stored"/>.</summary>
    public Instant Expires { get; }

    /// <summary>The cache's key, while the answer is in the cache.</summary>
    internal string? CacheKey { get; set; }

    internal LinkedListNode<DnsAnswer>? CacheNode { get; set; }

    /// <summary>An answer with no records and no expiry (NODATA, NXDOMAIN, SERVFAIL and the like).</summary>
    public static DnsAnswer Empty(byte responseCode, DnsAnswerSource source) =>
        new(responseCode, 0, 0, 0, [], [], source, Instant.Zero, Instant.Never);
}
