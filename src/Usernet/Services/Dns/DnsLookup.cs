using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>How a lookup is answered.</summary>
internal enum DnsLookupKind
{
    /// <summary>getaddrinfo on the host (A and AAAA).</summary>
    Host,

    /// <summary>Forwarded to nameservers.</summary>
    Upstream,
}

/// <summary>
/// One question being looked up, shared by every client that asks it meanwhile (single flight).
/// Pending -> Completed (answered, or failed at its deadline); a result that comes after that is
/// ignored.
/// </summary>
internal sealed class DnsLookup
{
    public DnsLookup(string key, byte[] name, ushort type, DnsLookupKind kind, IReadOnlyList<IpEndpoint> servers, Instant deadline)
    {
        Key = key;
        Name = name;
        Type = type;
        Kind = kind;
        Servers = servers;
        Deadline = deadline;
    }

    /// <summary>The cache key of the question.</summary>
    public string Key { get; }

    /// <summary>The name: uncompressed wire format, lower case.</summary>
    public byte[] Name { get; }

    /// <summary>The name as text, for getaddrinfo and logs.</summary>
    public string Text => DnsName.ToText(Name);

    public ushort Type { get; }

    public DnsLookupKind Kind { get; }

    /// <summary>The nameservers to ask, in order, for <see cref="DnsLookupKind.Upstream"/>.</summary>
    public IReadOnlyList<IpEndpoint> Servers { get; }

    /// <summary>When the waiting clients get SERVFAIL if no result has come.</summary>
    public Instant Deadline { get; }

    public bool Completed { get; internal set; }

    internal List<DnsWaiter> Waiters { get; } = new(1);

    internal LinkedListNode<DnsLookup>? DeadlineNode { get; set; }
}
