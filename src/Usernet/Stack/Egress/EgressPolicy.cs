using Usernet.Wire;

namespace Usernet.Stack.Egress;

/// <summary>
/// The egress rules compiled for matching: first match wins, then the default. A network is
/// a 128-bit network and mask (IPv4 inside ::ffff:0:0/96, as <see cref="IpAddress"/> holds
/// it), ports are ranges in one shared array, protocols a bit set, so deciding a flow reads
/// arrays and compares numbers and strings: nothing is allocated. Immutable, and swapped whole
/// on a reload. Decided once per new flow (see <see cref="EgressRule"/>), never per packet.
/// A long list is not read rule by rule: network rules are indexed by prefix length and
/// network (one hash lookup per distinct prefix length gives the few rules whose network holds
/// the address), and only those, the host and the name rules are tested, in list order, so
/// that the first match still wins and 1,000 rules cost a new flow about what a handful do.
/// </summary>
internal sealed class EgressPolicy
{
    /// <summary>No rules, default allow: what Usernet does without an egress section.</summary>
    public static readonly EgressPolicy AllowAll = new(EgressAction.Allow, [], EgressTcpRefusal.Rst);

    private readonly Compiled[] _rules;
    private readonly (ushort First, ushort Last)[] _ports;
    private readonly bool _allowsByAddress;

    /// <summary>Below this many rules the list is read in order: hash lookups would cost more than they skip.</summary>
    internal const int IndexThreshold = 16;

    /// <summary>Network rules by prefix length, each group's networks to their rules (ascending); null for a short list.</summary>
    private readonly PrefixGroup[]? _networks;

    /// <summary>The rules the index does not hold (host, names), ascending.</summary>
    private readonly int[] _unindexed;

    /// <summary>The name rules, ascending: what DNS queries and the proxy's names are matched against.</summary>
    private readonly int[] _nameRules;

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
        _nameRules = Enumerable.Range(0, rules.Count).Where(i => rules[i].ByName).ToArray();
        _unindexed = Enumerable.Range(0, rules.Count).Where(i => rules[i].Kind != EgressTargetKind.Network).ToArray();
        _networks = rules.Count < IndexThreshold ? null : Enumerable.Range(0, rules.Count)
            .Where(i => rules[i].Kind == EgressTargetKind.Network)
            .GroupBy(i => _rules[i].Mask)
            .Select(group => new PrefixGroup(group.Key, group.First(),
                group.GroupBy(i => _rules[i].Network).ToDictionary(network => network.Key, network => network.ToArray())))
            .OrderBy(group => group.First)
            .ToArray();
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
        if (_networks is null)
        {
            return MatchInOrder(protocol, destination, port, isHost, name, names, now);
        }
        // Each candidate list is ascending, and whether a rule matches does not depend on the
        // others: the first match is the least of each list's first, and a list is read only
        // below the best found so far.
        int best = FirstMatch(_unindexed, int.MaxValue, protocol, destination, port, isHost, name, names, now);
        foreach (var group in _networks)
        {
            if (group.First < best && group.Rules.TryGetValue(destination.Value & group.Mask, out var candidates))
            {
                best = FirstMatch(candidates, best, protocol, destination, port, isHost, name, names, now);
            }
        }
        return best == int.MaxValue ? DefaultDecision : new EgressDecision(_rules[best].Allow, best);
    }

    /// <summary><see cref="Match"/> by reading every rule in order: for short lists, and what the index must agree with.</summary>
    internal EgressDecision MatchInOrder(EgressProtocols protocol, IpAddress destination, ushort port, bool isHost, string? name, EgressNameTable? names, Instant now)
    {
        for (int i = 0; i < _rules.Length; i++)
        {
            if (Matches(in _rules[i], protocol, destination, port, isHost, name, names, now))
            {
                return new EgressDecision(_rules[i].Allow, i);
            }
        }
        return DefaultDecision;
    }

    private EgressDecision DefaultDecision => new(Default == EgressAction.Allow, EgressDecision.DefaultRule);

    /// <summary>The first of <paramref name="candidates"/> (ascending) below <paramref name="best"/> that matches, else <paramref name="best"/>.</summary>
    private int FirstMatch(int[] candidates, int best, EgressProtocols protocol, IpAddress destination, ushort port, bool isHost, string? name, EgressNameTable? names, Instant now)
    {
        foreach (int i in candidates)
        {
            if (i >= best)
            {
                break;
            }
            if (Matches(in _rules[i], protocol, destination, port, isHost, name, names, now))
            {
                return i;
            }
        }
        return best;
    }

    private bool Matches(in Compiled rule, EgressProtocols protocol, IpAddress destination, ushort port, bool isHost, string? name, EgressNameTable? names, Instant now)
    {
        // Cheapest test first: most rules of a long list fail on the address alone.
        bool target = rule.Kind switch
        {
            EgressTargetKind.Network => (destination.Value & rule.Mask) == rule.Network && !(rule.V6Only && destination.IsV4),
            EgressTargetKind.Host => isHost,
            _ => true,
        };
        if (!target || (rule.Protocols & protocol) == 0 || !PortMatches(in rule, protocol, port))
        {
            return false;
        }
        return rule.Kind is EgressTargetKind.Network or EgressTargetKind.Host
            || (name is not null && NameMatches(in rule, name)) || (names is not null && names.AnyName(destination, now, rule.Domain!, rule.Kind));
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
        foreach (int i in _nameRules)
        {
            ref readonly var rule = ref _rules[i];
            if (!NameMatches(in rule, name))
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
        foreach (int i in _nameRules)
        {
            ref readonly var rule = ref _rules[i];
            if ((rule.Protocols & EgressProtocols.Tcp) != 0
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

    /// <summary>The network rules of one prefix length (<paramref name="Mask"/>): the least rule index among them, and each network's rules.</summary>
    private sealed record PrefixGroup(UInt128 Mask, int First, Dictionary<UInt128, int[]> Rules);

    private readonly record struct Compiled(
        UInt128 Network, UInt128 Mask, EgressTargetKind Kind, bool Allow, EgressProtocols Protocols, int PortStart, int PortEnd, string? Domain, bool V6Only);
}
