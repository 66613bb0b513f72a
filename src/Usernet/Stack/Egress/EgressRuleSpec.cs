using Usernet.Wire;

namespace Usernet.Stack.Egress;

/// <summary>
/// One egress rule as the settings give it, already checked: what it does, where to
/// (<see cref="Kind"/> with <see cref="Network"/> and <see cref="PrefixLength"/>, or
/// <see cref="Domain"/>), on which ports (none: every port) and protocols. <see cref="To"/>
/// and <see cref="PortsText"/> are the canonical texts, for <c>usernet config</c> and the
/// stats. <see cref="Admin"/> marks the rules of a locked admin-settings.json, which come first.
/// </summary>
internal sealed record EgressRuleSpec(
    EgressAction Action,
    string To,
    EgressTargetKind Kind,
    IpAddress Network,
    int PrefixLength,
    string? Domain,
    (ushort First, ushort Last)[] Ports,
    string? PortsText,
    EgressProtocols Protocols,
    bool Admin = false)
{
    /// <summary>
    /// The prefix length in <see cref="IpAddress"/>'s 128 bits, where an IPv4 address sits
    /// in ::ffff:0:0/96: one mask test matches both families.
    /// </summary>
    public int WidePrefixLength => Kind == EgressTargetKind.Network && Network.IsV4 ? 96 + PrefixLength : PrefixLength;

    /// <summary>Whether the rule matches by name (and so only flows that carry one).</summary>
    public bool ByName => Kind is EgressTargetKind.Domain or EgressTargetKind.Subdomains;

    /// <summary>The rule in one line: <c>allow *.example.com ports 443 tcp</c>.</summary>
    public override string ToString()
    {
        string text = $"{(Action == EgressAction.Allow ? "allow" : "deny")} {To}";
        if (PortsText is not null)
        {
            text += $" ports {PortsText}";
        }
        if (Protocols != EgressProtocols.All)
        {
            text += " " + ProtocolNames(Protocols);
        }
        return Admin ? text + " (admin)" : text;
    }

    /// <summary>The protocols as settings write them: "tcp,udp".</summary>
    public static string ProtocolNames(EgressProtocols protocols) =>
        string.Join(",", new[] { (EgressProtocols.Tcp, "tcp"), (EgressProtocols.Udp, "udp"), (EgressProtocols.Icmp, "icmp") }
            .Where(p => (protocols & p.Item1) != 0).Select(p => p.Item2));
}
