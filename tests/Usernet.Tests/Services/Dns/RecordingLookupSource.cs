using Usernet.Services.Dns;

namespace Usernet.Tests.Services.Dns;

/// <summary>A lookup source that only records what the resolver asked; the test completes the lookups.</summary>
internal sealed class RecordingLookupSource : IDnsLookupSource
{
    public List<DnsLookup> Host { get; } = new();

    public List<DnsLookup> Forwarded { get; } = new();

    public void ResolveOnHost(DnsLookup lookup, DnsResolver resolver) => Host.Add(lookup);

    public void Forward(DnsLookup lookup, DnsResolver resolver) => Forwarded.Add(lookup);
}
