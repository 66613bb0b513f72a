namespace Usernet.Services.Dns;

/// <summary>Limits and choices of the resolver, from the settings.</summary>
internal sealed record DnsResolverOptions
{
    /// <summary>How long clients wait for a lookup before they get SERVFAIL (dns.timeoutSeconds).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Answer A and AAAA through the host's getaddrinfo (dns.hostResolver).</summary>
    public bool HostResolver { get; init; } = true;

    /// <summary>Lookups in flight at once; a query past that gets SERVFAIL at once.</summary>
    public int MaxLookups { get; init; } = 1024;

    /// <summary>Clients waiting on one lookup; a query past that is dropped (its client asks again).</summary>
    public int MaxWaitersPerLookup { get; init; } = 64;
}
