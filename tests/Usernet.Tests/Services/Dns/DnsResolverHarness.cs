using Usernet.Config;
using Usernet.Services.Dns;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dns;

/// <summary>
/// A <see cref="DnsResolver"/> with Usernet's default addresses, a recording lookup source and
/// recorded late datagrams. Time is whatever the test passes.
/// </summary>
internal sealed class DnsResolverHarness
{
    public static readonly IpEndpoint Guest = new(Ipv4Address.Parse("192.168.65.3"), 40000);
    public static readonly IpEndpoint Server = new(Ipv4Address.Parse("192.168.65.1"), 53);
    public static readonly IpEndpoint Upstream1 = new(Ipv4Address.Parse("127.0.0.1"), 53);

    private readonly byte[] _response = new byte[DnsResponseWriter.TcpLimit];

    public DnsResolverHarness(
        DnsInhibition inhibition = DnsInhibition.None, int cacheSize = 100, bool hostResolver = true, bool guestIpv6 = false,
        IReadOnlyDictionary<string, IReadOnlyList<IpEndpoint>>? routes = null, DnsResolverOptions? options = null,
        IReadOnlyDictionary<string, IReadOnlyList<IpAddress>>? records = null)
    {
        var local = new DnsLocalRecords(
            DnsLocalRecords.BuiltInNames(
                Ipv4Address.Parse("192.168.65.254"), Ipv6Address.Parse("fdc4:f303:9324::254"),
                Ipv4Address.Parse("192.168.65.1"), Ipv6Address.Parse("fdc4:f303:9324::1")),
            records);
        Inhibition = new DnsInhibitionPolicy(inhibition, () => true, () => guestIpv6);
        var upstreams = new DnsUpstreams([], routes ?? new Dictionary<string, IReadOnlyList<IpEndpoint>>())
        {
            HostNameservers = [Upstream1],
        };
        Resolver = new DnsResolver(
            options ?? new DnsResolverOptions { HostResolver = hostResolver },
            local, new DnsCache(cacheSize), Inhibition, upstreams, Source,
            (source, destination, payload) => Late.Add((source, destination, payload.ToArray())));
    }

    public DnsResolver Resolver { get; }

    public DnsInhibitionPolicy Inhibition { get; }

    public RecordingLookupSource Source { get; } = new();

    public List<(IpEndpoint Source, IpEndpoint Destination, byte[] Payload)> Late { get; } = new();

    public DnsCounters Counters => Resolver.Counters;

    /// <summary>Sends a UDP query; returns its immediate response, or null when there is none now.</summary>
    public DnsTestResponse? Ask(byte[] query, Instant now, IpEndpoint? from = null, IDnsStream? stream = null)
    {
        int length = Resolver.Resolve(query, new DnsReplyTo(from ?? Guest, Server, stream), _response, now);
        return length > 0 ? DnsTestMessages.Parse(_response.AsSpan(0, length)) : null;
    }

    public int AskRaw(byte[] query, Instant now) => Resolver.Resolve(query, new DnsReplyTo(Guest, Server), _response, now);

    public DnsTestResponse AskNow(string name, ushort type, Instant now, bool edns = false, ushort udpSize = 1232) =>
        Ask(DnsTestMessages.Query(name, type, edns: edns, udpSize: udpSize), now) ?? throw new InvalidOperationException("no immediate answer");

    /// <summary>The late datagrams sent since the last call, parsed.</summary>
    public List<DnsTestResponse> TakeLate()
    {
        var late = Late.Select(l => DnsTestMessages.Parse(l.Payload)).ToList();
        Late.Clear();
        return late;
    }
}
