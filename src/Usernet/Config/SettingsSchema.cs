using System.Collections.Immutable;
using Usernet.Wire;
using Modes = Usernet.Config.NetworkingMode;
using Inhibition = Usernet.Config.DnsInhibition;
using Binding = Usernet.Config.PortBindingBehavior;

namespace Usernet.Config;

/// <summary>
/// Every settings key: name, value type, default and rules, one definition each, in the order
/// <c>usernet config</c> prints them. Docker Desktop's keys keep their flat names; ours are
/// dotted paths that settings.json writes as nested objects. A derived default may read only
/// keys defined above it. Adding a key is a line here and a property in its section class.
/// </summary>
internal static class SettingsSchema
{
    // First, so that it exists when the definitions below register themselves.
    private static readonly List<SettingDefinition> Registry = [];

    public static readonly SettingDefinition<Ipv4Cidr> VpnkitCidr = Define("vpnkitCIDR",
        SettingTypes.Ipv4Network(8, 30), Ipv4Cidr.Parse("192.168.65.0/24"), [NetworkRules.NotOnHostNetwork], SettingsSection.Network);

    public static readonly SettingDefinition<Ipv4Address> GatewayIp = Derive("network.gatewayIP",
        SettingTypes.Ipv4, v => v.Get(VpnkitCidr).Network.Offset(1), [NetworkRules.InSubnet]);

    public static readonly SettingDefinition<Ipv4Address> HostIp = Derive("network.hostIP",
        SettingTypes.Ipv4, v => v.Get(VpnkitCidr).Broadcast.Offset(-1), [NetworkRules.InSubnet, NetworkRules.DiffersFrom(GatewayIp)]);

    public static readonly SettingDefinition<Ipv4Address> FirstGuestIp = Derive("network.firstGuestIP",
        SettingTypes.Ipv4, v => v.Get(VpnkitCidr).Network.Offset(3), [NetworkRules.InSubnet, NetworkRules.DiffersFrom(GatewayIp, HostIp)]);

    public static readonly SettingDefinition<Ipv6Cidr> Ipv6Prefix = Define("network.ipv6Prefix",
        SettingTypes.Ipv6Network(48, 64), Ipv6Cidr.Parse("fdc4:f303:9324::/64"));

    public static readonly SettingDefinition<Ipv6Address> GatewayIpv6 = Derive("network.gatewayIPv6",
        SettingTypes.Ipv6, v => v.Get(Ipv6Prefix).Address(1), [NetworkRules.InPrefix]);

    public static readonly SettingDefinition<Ipv6Address> HostIpv6 = Derive("network.hostIPv6",
        SettingTypes.Ipv6, v => v.Get(Ipv6Prefix).Address(NetworkRules.HostIpv6Offset), [NetworkRules.InPrefix, NetworkRules.DiffersFrom(GatewayIpv6)]);

    public static readonly SettingDefinition<Ipv6Address> FirstGuestIpv6 = Derive("network.firstGuestIPv6",
        SettingTypes.Ipv6, v => v.Get(Ipv6Prefix).Address(3), [NetworkRules.InPrefix, NetworkRules.DiffersFrom(GatewayIpv6, HostIpv6)]);

    /// <summary>null is "auto": the link picks (65520 on a TAP, 1500 on a VM link).</summary>
    public static readonly SettingDefinition<int?> Mtu = Define("network.mtu",
        SettingTypes.AutoOr(SettingTypes.Integer(576, 65520)), (int?)null, [NetworkRules.MtuCarriesIpv6]);

    public static readonly SettingDefinition<NetworkingMode> DefaultNetworkingMode = Define("defaultNetworkingMode",
        SettingTypes.Choice(("dual-stack", Modes.DualStack), ("ipv4only", Modes.Ipv4Only), ("ipv6only", Modes.Ipv6Only), ("auto", Modes.Auto)),
        Modes.DualStack, section: SettingsSection.Network);

    public static readonly SettingDefinition<bool> HostLoopback = Define("network.hostLoopback", SettingTypes.Bool, true);

    /// <summary>Subnets that lie behind a guest, as {"172.17.0.0/16": "192.168.65.3"}: frames for them go to that guest's MAC.</summary>
    public static readonly SettingDefinition<IReadOnlyDictionary<string, IReadOnlyList<IpAddress>>> GuestRoutes = Define("network.guestRoutes",
        SettingTypes.SubnetMap(SettingTypes.Ip), Empty<IpAddress>(), [NetworkRules.RoutesIntoGuests]);

    public static readonly SettingDefinition<DnsInhibition> DnsInhibition = Define("dnsInhibition",
        SettingTypes.Choice(("auto", Inhibition.Auto), ("ipv4", Inhibition.Ipv4), ("ipv6", Inhibition.Ipv6), ("none", Inhibition.None)),
        Inhibition.Auto, section: SettingsSection.Dns);

    public static readonly SettingDefinition<IReadOnlyList<IpEndpoint>> DnsServers = Define("dns.servers",
        SettingTypes.List(SettingTypes.DnsServer), Array.Empty<IpEndpoint>());

    public static readonly SettingDefinition<IReadOnlyDictionary<string, IReadOnlyList<IpEndpoint>>> DnsRoutes = Define("dns.routes",
        SettingTypes.DomainMap(SettingTypes.DnsServer), Empty<IpEndpoint>());

    /// <summary>null: the host's search domains.</summary>
    public static readonly SettingDefinition<IReadOnlyList<string>?> DnsSearchDomains = Define("dns.searchDomains",
        SettingTypes.OrNull(SettingTypes.List(SettingTypes.Domain)), null);

    public static readonly SettingDefinition<bool> DnsHostResolver = Define("dns.hostResolver", SettingTypes.Bool, true);

    public static readonly SettingDefinition<string> DnsResolvConf = Define("dns.resolvConf", SettingTypes.AbsolutePath, "/etc/resolv.conf");

    public static readonly SettingDefinition<int> DnsCacheSize = Define("dns.cacheSize", SettingTypes.Integer(0, 1_000_000), 4096);

    public static readonly SettingDefinition<TimeSpan> DnsTimeout = Define("dns.timeoutSeconds", SettingTypes.Seconds(0.1, 60), TimeSpan.FromSeconds(2));

    public static readonly SettingDefinition<IReadOnlyDictionary<string, IReadOnlyList<IpAddress>>> DnsRecords = Define("dns.records",
        SettingTypes.DomainMap(SettingTypes.Ip), Empty<IpAddress>());

    public static readonly ProxyKeys Proxy = DefineProxy("proxy");

    public static readonly ProxyKeys ContainersProxy = DefineProxy("containersProxy");

    public static readonly SettingDefinition<PortSet> TransparentPorts = Define("containersProxy.transparentPorts", SettingTypes.Ports, PortSet.None);

    public static readonly SettingDefinition<PortBindingBehavior> PortBindingBehavior = Define("portBindingBehavior",
        SettingTypes.Choice(
            ("default-port-binding", Binding.DefaultPortBinding),
            ("default-local-port-binding", Binding.DefaultLocalPortBinding),
            ("local-only-port-binding", Binding.LocalOnlyPortBinding)),
        Binding.DefaultPortBinding, section: SettingsSection.Ports);

    public static readonly SettingDefinition<bool> PreserveClientAddress = Define("ports.preserveClientAddress", SettingTypes.Bool, true);

    /// <summary>Publish specs stay strings here: the port forwarder owns their syntax.</summary>
    public static readonly SettingDefinition<IReadOnlyList<string>> Publish = Define("ports.publish",
        SettingTypes.List(SettingTypes.NonEmptyString), Array.Empty<string>());

    /// <summary>
    /// How long the loop polls after the last events before it sleeps in epoll_wait (0: never).
    /// On one CPU it never does: the time spun would be taken from the guest and its peers.
    /// </summary>
    public static readonly SettingDefinition<int> LoopPollMicroseconds = Define("loop.pollMicroseconds", SettingTypes.Integer(0, 10_000), 100);

    public static readonly SettingDefinition<int> TcpMaxConnections = Define("tcp.maxConnections", SettingTypes.Integer(1, 1_000_000), 16384);

    public static readonly SettingDefinition<TimeSpan> TcpConnectTimeout = Define("tcp.connectTimeoutSeconds", SettingTypes.Seconds(0.1, 600), TimeSpan.FromSeconds(30));

    public static readonly SettingDefinition<TimeSpan> TcpKeepaliveIdle = Define("tcp.keepaliveIdleSeconds", SettingTypes.Seconds(1, 86400), TimeSpan.FromSeconds(60));

    public static readonly SettingDefinition<TimeSpan> TcpKeepaliveInterval = Define("tcp.keepaliveIntervalSeconds", SettingTypes.Seconds(1, 86400), TimeSpan.FromSeconds(15));

    public static readonly SettingDefinition<int> TcpKeepaliveCount = Define("tcp.keepaliveCount", SettingTypes.Integer(1, 100), 8);

    /// <summary>Connections remote clients open through published ports: a budget apart from the guests' own.</summary>
    public static readonly SettingDefinition<int> TcpMaxInboundConnections = Define("tcp.maxInboundConnections", SettingTypes.Integer(1, 1_000_000), 16384);

    public static readonly SettingDefinition<int> UdpMaxFlows = Define("udp.maxFlows", SettingTypes.Integer(1, 1_000_000), 4096);

    public static readonly SettingDefinition<TimeSpan> UdpIdleTimeout = Define("udp.idleTimeoutSeconds", SettingTypes.Seconds(0.1, 86400), TimeSpan.FromSeconds(60));

    public static readonly SettingDefinition<int> FragmentsMaxDatagrams = Define("fragments.maxDatagrams", SettingTypes.Integer(1, 10000), 64);

    public static readonly SettingDefinition<TimeSpan> FragmentsTimeout = Define("fragments.timeoutSeconds", SettingTypes.Seconds(0.1, 120), TimeSpan.FromSeconds(30));

    public static readonly SettingDefinition<TimeSpan> DhcpLease = Define("dhcp.leaseSeconds", SettingTypes.Seconds(10, 31_536_000), TimeSpan.FromHours(1));

    /// <summary>Capped by the addresses the subnet has for guests, so a small subnet needs no second edit.</summary>
    public static readonly SettingDefinition<int> DhcpMaxLeases = Derive("dhcp.maxLeases", SettingTypes.Integer(1, 65534),
        _ => 250, limit: (v, leases) => Math.Min(leases, NetworkRules.GuestPoolSize(v)));

    /// <summary>What Usernet keeps once set up: publishing a port below 1024 at run time needs NET_BIND_SERVICE.</summary>
    public static readonly SettingDefinition<IReadOnlyList<Platform.Capability>> SecurityCapabilities = Define("security.capabilities",
        SettingTypes.List(SettingTypes.Capability), new[] { Platform.Capability.NetBindService });

    public static readonly SettingDefinition<Platform.SeccompMode> SecuritySeccomp = Define("security.seccomp",
        SettingTypes.Choice(("on", Platform.SeccompMode.On), ("log", Platform.SeccompMode.Log), ("off", Platform.SeccompMode.Off)), Platform.SeccompMode.On);

    /// <summary>Where the SOCKS5 server into the guests' networks listens; null (written "") for nowhere, the default.</summary>
    public static readonly SettingDefinition<IpEndpoint?> SocksListen = Define("socks.listen",
        SettingTypes.ListenAddressOrNone, (IpEndpoint?)null, [SocksRules.LoopbackUnlessAllowed]);

    /// <summary>The explicit consent to listen beyond loopback; the admin can lock it off.</summary>
    public static readonly SettingDefinition<bool> SocksAllowNonLoopback = Define("socks.allowNonLoopback", SettingTypes.Bool, false);

    /// <summary>RFC 1929: with a user, clients must give it and the password; "" for no authentication.</summary>
    public static readonly SettingDefinition<string> SocksUser = Define("socks.user", SettingTypes.AnyString, "", [SocksRules.CredentialLength]);

    public static readonly SettingDefinition<string> SocksPassword = Define("socks.password", SettingTypes.Secret, "",
        [SocksRules.CredentialLength, SocksRules.PasswordNeedsUser]);

    public static readonly SettingDefinition<int> SocksMaxConnections = Define("socks.maxConnections", SettingTypes.Integer(1, 65536), 256);

    public static readonly SettingDefinition<TimeSpan> SocksHandshakeTimeout = Define("socks.handshakeTimeoutSeconds", SettingTypes.Seconds(0.1, 300), TimeSpan.FromSeconds(10));

    /// <summary>Where Prometheus may scrape <c>/metrics</c> over TCP; null (written "") for nowhere, the default.</summary>
    public static readonly SettingDefinition<IpEndpoint?> MetricsListen = Define("metrics.listen",
        SettingTypes.ListenAddressOrNone, (IpEndpoint?)null, [MetricsLoopbackUnlessAllowed]);

    /// <summary>The explicit consent to serve the metrics beyond loopback; the admin can lock it off.</summary>
    public static readonly SettingDefinition<bool> MetricsAllowNonLoopback = Define("metrics.allowNonLoopback", SettingTypes.Bool, false);

    /// <summary>Where the flow log goes, one JSON line per flow that ends; "" (the default) for no file.</summary>
    public static readonly SettingDefinition<string> LogFlows = Define("log.flows", SettingTypes.AbsolutePathOrNone, "");

    /// <summary>The flow log's size before it is rotated (to PATH.1, replacing the one before).</summary>
    public static readonly SettingDefinition<int> LogFlowsMaxMegabytes = Define("log.flowsMaxMegabytes", SettingTypes.Integer(1, 1_000_000), 64);

    /// <summary>Whether the flow log also has a line when a flow starts; off, the default, the stack makes no call for it.</summary>
    public static readonly SettingDefinition<bool> LogFlowStarts = Define("log.flowStarts", SettingTypes.Bool, false);

    /// <summary>What a new guest flow that no egress rule matches does.</summary>
    public static readonly SettingDefinition<Stack.Egress.EgressAction> EgressDefault = Define("egress.default",
        SettingTypes.Choice(("allow", Stack.Egress.EgressAction.Allow), ("deny", Stack.Egress.EgressAction.Deny)), Stack.Egress.EgressAction.Allow);

    /// <summary>
    /// Ordered, first match wins. Under an admin lock the admin's rules come first and the
    /// user's follow (see <see cref="SettingsLoader"/>), so no user rule overrides them.
    /// </summary>
    public static readonly SettingDefinition<IReadOnlyList<Stack.Egress.EgressRuleSpec>> EgressRules = Define("egress.rules",
        new EgressRulesSettingType(), (IReadOnlyList<Stack.Egress.EgressRuleSpec>)Array.Empty<Stack.Egress.EgressRuleSpec>());

    public static readonly SettingDefinition<Stack.Egress.EgressTcpRefusal> EgressTcpRefusal = Define("egress.tcpRefusal",
        SettingTypes.Choice(("rst", Stack.Egress.EgressTcpRefusal.Rst), ("icmp", Stack.Egress.EgressTcpRefusal.Icmp)), Stack.Egress.EgressTcpRefusal.Rst);

    public static readonly SettingDefinition<Stack.Egress.EgressDnsRefusal> EgressDnsRefusal = Define("egress.dnsRefusal",
        SettingTypes.Choice(("nxdomain", Stack.Egress.EgressDnsRefusal.NxDomain), ("refused", Stack.Egress.EgressDnsRefusal.Refused)), Stack.Egress.EgressDnsRefusal.NxDomain);

    // After the definitions: these read the registry they filled.
    private static readonly Dictionary<string, SettingDefinition> ByKey = Registry.ToDictionary(d => d.Key, StringComparer.Ordinal);

    /// <summary>Every proper prefix of a dotted key ("proxy", "dns"): the objects a settings file may nest.</summary>
    private static readonly HashSet<string> Sections = Registry
        .SelectMany(d => d.Key.Select((c, i) => c == '.' ? d.Key[..i] : null).OfType<string>())
        .ToHashSet(StringComparer.Ordinal);

    public static IReadOnlyList<SettingDefinition> All => Registry;

    public static SettingDefinition? Find(string key) => ByKey.GetValueOrDefault(key);

    public static bool IsSection(string key) => Sections.Contains(key);

    /// <summary>Whether the key holds a password, which is masked wherever settings are shown.</summary>
    public static bool IsSecret(string key) => Find(key) is SettingDefinition<string> definition && definition.Type == SettingTypes.Secret;

    /// <summary>The keys under a section, for a lock on the whole section.</summary>
    public static IEnumerable<SettingDefinition> Under(string section) =>
        Registry.Where(d => d.Key.StartsWith(section + ".", StringComparison.Ordinal));

    /// <summary>Every name a file may use, for "did you mean" suggestions.</summary>
    public static IEnumerable<string> Names => ByKey.Keys.Concat(Sections);

    /// <summary>The metrics carry no secrets, but say what the guests do: loopback unless the user says otherwise.</summary>
    private static string? MetricsLoopbackUnlessAllowed(SettingValues values, IpEndpoint? listen) =>
        SocksRules.LoopbackUnless(values, listen, MetricsAllowNonLoopback, "shows every host that reaches it what the guests do");

    private static ProxyKeys DefineProxy(string section) => new(
        Define($"{section}.mode", SettingTypes.Choice(("system", ProxyMode.System), ("manual", ProxyMode.Manual)), ProxyMode.System),
        Define($"{section}.http", SettingTypes.ProxyUrl, null),
        Define($"{section}.https", SettingTypes.ProxyUrl, null),
        Define($"{section}.exclude", SettingTypes.List(SettingTypes.NonEmptyString), Array.Empty<string>()),
        Define($"{section}.pac", SettingTypes.PacLocation, ""),
        Define($"{section}.embeddedPac", SettingTypes.AnyString, ""));

    private static IReadOnlyDictionary<string, IReadOnlyList<T>> Empty<T>() =>
        ImmutableSortedDictionary<string, IReadOnlyList<T>>.Empty;

    private static SettingDefinition<T> Define<T>(string key, SettingType<T> type, T fallback,
        SettingRule<T>[]? rules = null, SettingsSection? section = null) =>
        Derive(key, type, _ => fallback, rules, section);

    private static SettingDefinition<T> Derive<T>(string key, SettingType<T> type, Func<SettingValues, T> fallback,
        SettingRule<T>[]? rules = null, SettingsSection? section = null, Func<SettingValues, T, T>? limit = null)
    {
        // Dotted keys belong to the section they start with; Docker's flat keys name theirs.
        var owner = section ?? Enum.Parse<SettingsSection>(key[..key.IndexOf('.')], ignoreCase: true);
        var definition = new SettingDefinition<T>(key, owner, Registry.Count, type, fallback, rules ?? [], limit);
        Registry.Add(definition);
        return definition;
    }
}
