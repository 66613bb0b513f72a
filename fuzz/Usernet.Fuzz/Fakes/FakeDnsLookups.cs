using Usernet.Services.Dns;

namespace Usernet.Fuzz.Fakes;

/// <summary>Stands for getaddrinfo and the upstream nameservers: keeps each lookup for the input to answer.</summary>
internal sealed class FakeDnsLookups : IDnsLookupSource
{
    public List<DnsLookup> Pending { get; } = new();

    public void ResolveOnHost(DnsLookup lookup, DnsResolver resolver) => Pending.Add(lookup);

    public void Forward(DnsLookup lookup, DnsResolver resolver) => Pending.Add(lookup);
}
