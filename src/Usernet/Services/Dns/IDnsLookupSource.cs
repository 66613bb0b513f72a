namespace Usernet.Services.Dns;

/// <summary>
/// Where the resolver's lookups go: the host's getaddrinfo and the upstream nameservers. Both
/// start work that must not block the caller (the loop thread), and report back on the loop
/// thread through <see cref="DnsResolver.CompleteHost"/> and <see cref="DnsResolver.CompleteForward"/>.
/// Tests stand in with a source that only records the lookups.
/// </summary>
internal interface IDnsLookupSource
{
    void ResolveOnHost(DnsLookup lookup, DnsResolver resolver);

    void Forward(DnsLookup lookup, DnsResolver resolver);
}
