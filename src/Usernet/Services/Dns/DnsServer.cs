using System.Text.Json;
using Usernet.Platform;
using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>
/// The DNS server on the gateway, port 53, UDP and TCP: Usernet's own names, then the host's
/// resolver for addresses, then the upstream nameservers, with a cache in front. It wires the
/// parts together: <see cref="DnsResolver"/> (the logic, on the loop thread), the lookups on
/// the thread pool, DNS over TCP, and a watch on the host's resolv.conf and address families.
/// </summary>
internal sealed class DnsServer : IUdpService, IDisposable
{
    public const ushort Port = 53;

    /// <summary>How often resolv.conf is read for changes.</summary>
    public static readonly TimeSpan ResolvConfInterval = TimeSpan.FromSeconds(1);

    /// <summary>How often the host's routes and addresses are looked at, for dnsInhibition auto.</summary>
    public static readonly TimeSpan FamilyProbeInterval = TimeSpan.FromSeconds(5);

    private readonly EventLoop _loop;
    private readonly DnsDatagramSender _send;
    private readonly ResolvConfWatcher _resolvConf;
    private readonly LoopTimer _expiry;
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _response = new byte[DnsResponseWriter.UdpPayloadSize];
    private Task? _watch;

    public DnsServer(DnsServerOptions options, EventLoop loop, DnsDatagramSender send)
    {
        _loop = loop;
        _send = send;
        var local = new DnsLocalRecords(
            DnsLocalRecords.BuiltInNames(options.Host, options.HostV6, options.Gateway, options.GatewayV6), options.Records);
        var upstreams = new DnsUpstreams(options.Servers, options.Routes);
        var inhibition = new DnsInhibitionPolicy(options.Inhibition, options.GuestHasIpv4, options.GuestHasIpv6);
        Forwarder = new DnsForwarder(options.Timeout);
        var runner = new DnsLookupRunner(loop.Post, new HostNameResolver(), Forwarder, options.Timeout);
        Resolver = new DnsResolver(
            new DnsResolverOptions { Timeout = options.Timeout, HostResolver = options.HostResolver },
            local, new DnsCache(options.CacheSize), inhibition, upstreams, runner, send);
        _expiry = loop.CreateTimer(Expire);
        Resolver.ScheduleExpiry = due => _expiry.ScheduleNoLaterThan(due);
        Tcp = new DnsTcpServer(loop.Post, Resolver, new IpEndpoint(options.Gateway, Port), options.Timeout);
        _resolvConf = new ResolvConfWatcher(options.ResolvConf);
        // The first reading is taken now, so that the first query already has the nameservers.
        _resolvConf.Poll(out var initial);
        upstreams.HostNameservers = Nameservers(initial);
        (inhibition.HostHasIpv4, inhibition.HostHasIpv6) = HostFamilyProbe.Probe();
    }

    public DnsResolver Resolver { get; }

    public DnsTcpServer Tcp { get; }

    public DnsForwarder Forwarder { get; }

    public bool AcceptsBroadcast => false;

    /// <summary>The resolver's counters, lookups in flight and the cache, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        Resolver.Counters.WriteJson(writer);
        writer.WriteNumber("upstreamMismatched", Forwarder.Mismatched);
        writer.WriteNumber("inflight", Resolver.LookupsInFlight);
        writer.WriteNumber("cacheSize", Resolver.Cache.Count);
        writer.WriteNumber("cacheBytes", Resolver.Cache.Bytes);
        writer.WriteNumber("cacheEvictions", Resolver.Cache.Evictions);
        writer.WriteNumber("localNames", Resolver.Local.Count);
    }

    /// <summary>Starts watching resolv.conf and the host's address families.</summary>
    public void Start() => _watch = Task.Run(WatchHost);

    public void OnDatagram(in UdpRequest request, Instant now)
    {
        var replyTo = new DnsReplyTo(request.Source, request.Destination);
        int length = Resolver.Resolve(request.Payload, replyTo, _response, now);
        if (length > 0)
        {
            _send(request.Destination, request.Source, _response.AsSpan(0, length));
        }
    }

    private void Expire(Instant now)
    {
        Resolver.Expire(now);
        if (Resolver.NextDeadline != Instant.Never)
        {
            _expiry.Schedule(Resolver.NextDeadline);
        }
    }

    private async Task WatchHost()
    {
        using var timer = new PeriodicTimer(ResolvConfInterval);
        var lastProbe = DateTime.UtcNow;
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                if (_resolvConf.Poll(out var configuration))
                {
                    var nameservers = Nameservers(configuration);
                    Log.Info($"{_resolvConf.Path} changed: nameservers {string.Join(", ", nameservers)}");
                    _loop.Post(_ =>
                    {
                        Resolver.Upstreams.HostNameservers = nameservers;
                        // What the old nameservers said may not hold any more (a VPN joined or left).
                        Resolver.ClearCache();
                        Resolver.Counters.ResolvConfReloads++;
                    });
                }
                if (DateTime.UtcNow - lastProbe >= FamilyProbeInterval)
                {
                    lastProbe = DateTime.UtcNow;
                    var (v4, v6) = HostFamilyProbe.Probe();
                    _loop.Post(_ => (Resolver.Inhibition.HostHasIpv4, Resolver.Inhibition.HostHasIpv6) = (v4, v6));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static IReadOnlyList<IpEndpoint> Nameservers(ResolvConf configuration) =>
        configuration.Nameservers.Select(a => new IpEndpoint(a, Port)).ToList();

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _watch?.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
