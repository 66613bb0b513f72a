using Usernet.Wire;

namespace Usernet.Stack.Egress;

/// <summary>
/// The egress rules compiled for matching: first match wins, then the default. A network is
/// a 128-bit network and mask (IPv4 inside ::ffff:0:0/96, as <see cref="IpAddress"/> holds
/// it), ports are ranges in one shared array, protocols a bit set, so deciding a flow reads
/// arrays and compares numbers and strings: nothing is allocated. Immutable, and swapped whole
/// on a reload. Decided once per new flow (see <see cref="EgressRule"/>), never per packet.
/// </summary>
internal sealed class EgressPolicy
{
    /// <summary>No rules, default allow: what Usernet does without an egress section.</summary>
    public static readonly EgressPolicy AllowAll = new(EgressAction.Allow, [], EgressTcpRefusal.Rst);

    private readonly Compiled[] _rules;
    private readonly (ushort First, ushort Last)[] _ports;
    private readonly bool _allowsByAddress;

    public EgressPolicy(EgressAction defaultAction, IReadOnlyList<EgressRuleSpec> rules, EgressTcpRefusal tcpRefusal, EgressDnsRefusal dnsRefusal = EgressDnsRefusal.NxDomain)
    {
        Default = defaultAction;
        DnsRefusal = dnsRefusal;
        Rules = rules;
        TcpRefusal = tcpRefusal;
        Counters = new EgressCounters(rules.Count);
        _rules = new Compiled[rules.Count];
        var ports = new List<(ushort, ushort)>();
        for (int i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            int wide = rule.WidePrefixLength;
            UInt128 mask = wide == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - wide);
            // An IPv6 network outside ::ffff:0:0/96 (::/0 above all) is IPv6's only: "deny ::/0" must not take IPv4 with it.
            bool v6Only = rule.Kind == EgressTargetKind.Network && !rule.Network.IsV4;
            _rules[i] = new Compiled(
                rule.Network.Value & mask, mask, rule.Kind, rule.Action == EgressAction.Allow, rule.Protocols,
                ports.Count, ports.Count + rule.Ports.Length, rule.Domain, v6Only);
            ports.AddRange(rule.Ports);
        }
        _ports = [.. ports];
        HasNameRules = rules.Any(r => r.ByName);
        _allowsByAddress = rules.Any(r => r.Action == EgressAction.Allow && !r.ByName);
    }

    public EgressAction Default { get; }

    public IReadOnlyList<EgressRuleSpec> Rules { get; }

    public EgressTcpRefusal TcpRefusal { get; }

    public EgressDnsRefusal DnsRefusal { get; }

    public EgressCounters Counters { get; }

    /// <summary>Whether any rule matches by name: only then are names looked up for a flow.</summary>
    public bool HasNameRules { get; }

    /// <summary>Whether the policy lets everything through unexamined (no rules, default allow).</summary>
    public bool AllowsAll => _rules.Length == 0 && Default == EgressAction.Allow;

    /// <summary>
    /// Decides a new flow of <paramref name="protocol"/> to <paramref name="destination"/>
    /// (the address the guest used), port <paramref name="port"/> (0 for ICMP). <paramref name="isHost"/>
    /// says it is the host address. <paramref name="name"/> is the name the flow asked for
    /// (the proxy's host, a TLS SNI), if any; <paramref name="names"/>, where given, supplies
    /// the names the DNS server gave for the address. Counts the verdict.
    /// </summary>
    public EgressDecision Decide(EgressProtocols protocol, IpAddress destination, ushort port, bool isHost, string? name, EgressNameTable? names, Instant now)
    {
        var decision = Match(protocol, destination, port, isHost, name, names, now);
        Counters.Count(decision);
        return decision;
    }

    /// <summary><see cref="Decide"/> without counting: for tests, and for asking what a rule would do.</summary>
    public EgressDecision Match(EgressProtocols protocol, IpAddress destination, ushort port, bool isHost, string? name, EgressNameTable? names, Instant now)
    {
        var rules = _rules;
        for (int i = 0; i < rules.Length; i++)
        {
            ref readonly var rule = ref rules[i];
            // Cheapest test first: most rules of a long list fail on the address alone.
            bool target = rule.Kind switch
            {
                EgressTargetKind.Network => (destination.Value & rule.Mask) == rule.Network && !(rule.V6Only && destination.IsV4),
                EgressTargetKind.Host => isHost,
                _ => true,
            };
            if (!target || (rule.Protocols & protocol) == 0 || !PortMatches(in rule, protocol, port))
            {
                continue;
            }
            if (rule.Kind is EgressTargetKind.Network or EgressTargetKind.Host
                || (name is not null && NameMatches(in rule, name)) || (names is not null && names.AnyName(destination, now, rule.Domain!, rule.Kind)))
            {
                return new EgressDecision(rule.Allow, i);
            }
        }
        return new EgressDecision(Default == EgressAction.Allow, EgressDecision.DefaultRule);
    }

    /// <summary>
    /// The verdict for a name alone, before any address is known: what the DNS server does
    /// with a query (<c>egress.dnsRefusal</c>). The first name rule that matches decides, with
    /// any ports and protocols; a deny there refuses the name only when it holds for every port
    /// and protocol. A name no rule names is refused when the default is deny and no rule
    /// allows by address, since then no address it could give would be reachable.
    /// </summary>
    public EgressDecision MatchName(ReadOnlySpan<char> name)
    {
        for (int i = 0; i < _rules.Length; i++)
        {
            ref readonly var rule = ref _rules[i];
            if (rule.Kind is not (EgressTargetKind.Domain or EgressTargetKind.Subdomains) || !NameMatches(in rule, name))
            {
                continue;
            }
            if (rule.Allow)
            {
                return new EgressDecision(true, i);
            }
            if (rule.Protocols == EgressProtocols.All && rule.PortStart == rule.PortEnd)
            {
                return new EgressDecision(false, i);
            }
        }
        return new EgressDecision(Default == EgressAction.Allow || _allowsByAddress, EgressDecision.DefaultRule);
    }

    /// <summary>
    /// The first name rule that matches <paramref name="name"/> on TCP port <paramref name="port"/>,
    /// counted; null when none does (then only addresses can decide). For the HTTP proxy, whose
    /// requests to an upstream proxy have a name and no address.
    /// </summary>
    public EgressDecision? DecideName(string name, ushort port)
    {
        for (int i = 0; i < _rules.Length; i++)
        {
            ref readonly var rule = ref _rules[i];
            if (rule.Kind is (EgressTargetKind.Domain or EgressTargetKind.Subdomains) && (rule.Protocols & EgressProtocols.Tcp) != 0
                && PortMatches(in rule, EgressProtocols.Tcp, port) && NameMatches(in rule, name))
            {
                var decision = new EgressDecision(rule.Allow, i);
                Counters.Count(decision);
                return decision;
            }
        }
        return null;
    }

    /// <summary>The rule that made <paramref name="decision"/>, for messages: "rule [1] (deny *.example.com)" or "egress.default deny".</summary>
    public string Describe(EgressDecision decision) =>
        decision.ByDefault
            ? $"{decision.RuleName} {(Default == EgressAction.Allow ? "allow" : "deny")}"
            : $"{decision.RuleName} ({Rules[decision.Rule]})";

    /// <summary>Whether <paramref name="name"/> is the rule's domain (or below it, for *.domain); no trailing dot, any case.</summary>
    public static bool NameMatches(string domain, EgressTargetKind kind, ReadOnlySpan<char> name)
    {
        if (name.EndsWith('.'))
        {
            name = name[..^1];
        }
        if (kind == EgressTargetKind.Domain)
        {
            return name.Equals(domain, StringComparison.OrdinalIgnoreCase);
        }
        return name.Length > domain.Length + 1
            && name[name.Length - domain.Length - 1] == '.'
            && name.EndsWith(domain, StringComparison.OrdinalIgnoreCase);
    }

    private static bool NameMatches(in Compiled rule, ReadOnlySpan<char> name) => NameMatches(rule.Domain!, rule.Kind, name);

    /// <summary>Rules with ports match TCP and UDP on those ports only; ICMP has no ports.</summary>
    private bool PortMatches(in Compiled rule, EgressProtocols protocol, ushort port)
    {
        if (rule.PortStart == rule.PortEnd)
        {
            return true;
        }
        if (protocol == EgressProtocols.Icmp)
        {
            return false;
        }
        for (int i = rule.PortStart; i < rule.PortEnd; i++)
        {
            if (port >= _ports[i].First && port <= _ports[i].Last)
            {
                return true;
            }
        }
        return false;
    }

    private readonly record struct Compiled(
        UInt128 Network, UInt128 Mask, EgressTargetKind Kind, bool Allow, EgressProtocols Protocols, int PortStart, int PortEnd, string? Domain, bool V6Only);
}
