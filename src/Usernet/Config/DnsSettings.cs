using Usernet.Wire;

namespace Usernet.Config;

/// <summary>The DNS server on the gateway: where it forwards, what it answers itself.</summary>
internal sealed class DnsSettings(SettingValues values)
{
    /// <summary>dnsInhibition.</summary>
    public DnsInhibition Inhibition { get; } = values.Get(SettingsSchema.DnsInhibition);

    /// <summary>Upstream servers; empty means the servers in <see cref="ResolvConf"/>.</summary>
    public IReadOnlyList<IpEndpoint> Servers { get; } = values.Get(SettingsSchema.DnsServers);

    /// <summary>Split DNS: a domain (lower case, no trailing dot) to the servers for it and its subdomains.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<IpEndpoint>> Routes { get; } = values.Get(SettingsSchema.DnsRoutes);

    /// <summary>null means the host's search domains.</summary>
    public IReadOnlyList<string>? SearchDomains { get; } = values.Get(SettingsSchema.DnsSearchDomains);

    /// <summary>Answer A and AAAA through the host's getaddrinfo, so /etc/hosts and NSS apply.</summary>
    public bool HostResolver { get; } = values.Get(SettingsSchema.DnsHostResolver);

    public string ResolvConf { get; } = values.Get(SettingsSchema.DnsResolvConf);

    public int CacheSize { get; } = values.Get(SettingsSchema.DnsCacheSize);

    public TimeSpan Timeout { get; } = values.Get(SettingsSchema.DnsTimeout);

    /// <summary>Static records: a name (lower case, no trailing dot) to its addresses.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<IpAddress>> Records { get; } = values.Get(SettingsSchema.DnsRecords);
}
