using Usernet.Config;
using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>What the DNS server runs with, from the settings (dns.*, dnsInhibition and the network's addresses).</summary>
internal sealed record DnsServerOptions
{
    /// <summary>The gateway: where the server answers, and gateway.docker.internal.</summary>
    public required IpAddress Gateway { get; init; }

    public IpAddress? GatewayV6 { get; init; }

    /// <summary>host.docker.internal.</summary>
    public required IpAddress Host { get; init; }

    public IpAddress? HostV6 { get; init; }

    public DnsInhibition Inhibition { get; init; } = DnsInhibition.Auto;

    public IReadOnlyList<IpEndpoint> Servers { get; init; } = [];

    public IReadOnlyDictionary<string, IReadOnlyList<IpEndpoint>> Routes { get; init; } = new Dictionary<string, IReadOnlyList<IpEndpoint>>();

    public IReadOnlyDictionary<string, IReadOnlyList<IpAddress>> Records { get; init; } = new Dictionary<string, IReadOnlyList<IpAddress>>();

    public bool HostResolver { get; init; } = true;

    public string ResolvConf { get; init; } = "/etc/resolv.conf";

    public int CacheSize { get; init; } = 4096;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Whether guests have an IPv4 path (for dnsInhibition auto).</summary>
    public Func<bool> GuestHasIpv4 { get; init; } = static () => true;

    /// <summary>Whether guests have an IPv6 path (the networking mode offers it).</summary>
    public Func<bool> GuestHasIpv6 { get; init; } = static () => false;

    public static DnsServerOptions FromSettings(Settings settings)
    {
        var network = settings.Network;
        var dns = settings.Dns;
        return new DnsServerOptions
        {
            Gateway = network.GatewayIp,
            GatewayV6 = network.GatewayIpv6,
            Host = network.HostIp,
            HostV6 = network.HostIpv6,
            Inhibition = dns.Inhibition,
            Servers = dns.Servers,
            Routes = dns.Routes,
            Records = dns.Records,
            HostResolver = dns.HostResolver,
            ResolvConf = dns.ResolvConf,
            CacheSize = dns.CacheSize,
            Timeout = dns.Timeout,
        };
    }
}
