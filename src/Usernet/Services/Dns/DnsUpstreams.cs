using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>
/// Which nameservers a forwarded query goes to: those of the longest matching dns.routes domain
/// (split DNS: corp.example to the VPN's resolver), else dns.servers, else the nameservers of
/// the host's resolv.conf as last read. Loop thread only.
/// </summary>
internal sealed class DnsUpstreams
{
    private readonly IReadOnlyList<IpEndpoint> _configured;
    private readonly Dictionary<string, IReadOnlyList<IpEndpoint>> _routes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<IpEndpoint>>.AlternateLookup<ReadOnlySpan<char>> _routesBySpan;

    public DnsUpstreams(IReadOnlyList<IpEndpoint> configured, IReadOnlyDictionary<string, IReadOnlyList<IpEndpoint>> routes)
    {
        _configured = configured;
        _routesBySpan = _routes.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> key = stackalloc char[DnsKey.MaxLength];
        foreach (var (domain, servers) in routes)
        {
            _routes[DnsKey.ForName(DnsName.Encode(domain), key).ToString()] = servers;
        }
    }

    /// <summary>The nameservers of the host's resolv.conf.</summary>
    public IReadOnlyList<IpEndpoint> HostNameservers { get; set; } = [];

    /// <summary>Where queries go that no route claims.</summary>
    public IReadOnlyList<IpEndpoint> Default => _configured.Count > 0 ? _configured : HostNameservers;

    /// <summary>The servers of the longest route domain that <paramref name="lowerName"/> is at or below, or null.</summary>
    public IReadOnlyList<IpEndpoint>? Route(ReadOnlySpan<byte> lowerName)
    {
        if (_routes.Count == 0)
        {
            return null;
        }
        Span<char> key = stackalloc char[DnsKey.MaxLength];
        // Suffixes from the longest down, at label boundaries; the root label ends the walk.
        for (int position = 0; position < lowerName.Length && lowerName[position] != 0; position += 1 + lowerName[position])
        {
            if (_routesBySpan.TryGetValue(DnsKey.ForName(lowerName[position..], key), out var servers))
            {
                return servers;
            }
        }
        return null;
    }
}
