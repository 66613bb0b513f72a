using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Usernet.Stack.Egress;
using Usernet.Wire;

namespace Usernet.Config;

/// <summary>
/// egress.rules: a JSON list of <c>{"action": "allow"|"deny", "to": "…", "ports": "443,8000-9000",
/// "protocols": ["tcp"]}</c>; a flag gives the same list as JSON text. An error names the
/// rule by its position from 0 and the field: <c>[2].ports: …</c>, which the loader puts
/// after the key (<c>egress.rules[2].ports: …</c>).
/// </summary>
internal sealed class EgressRulesSettingType : SettingType<IReadOnlyList<EgressRuleSpec>>
{
    public override string Expected => "a list of rules such as [{\"action\": \"allow\", \"to\": \"*.example.com\", \"ports\": \"443\", \"protocols\": [\"tcp\"]}]";

    public override bool TryParseJson(JsonElement json, [MaybeNullWhen(false)] out IReadOnlyList<EgressRuleSpec> value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        if (json.ValueKind != JsonValueKind.Array)
        {
            error = WrongKind(json);
            return false;
        }
        var rules = new List<EgressRuleSpec>();
        int index = 0;
        foreach (var item in json.EnumerateArray())
        {
            if (!TryParseRule(item, out var rule, out string? problem))
            {
                error = $"[{index}]{problem}";
                return false;
            }
            rules.Add(rule);
            index++;
        }
        value = rules.AsReadOnly();
        error = null;
        return true;
    }

    public override bool TryParseText(string text, [MaybeNullWhen(false)] out IReadOnlyList<EgressRuleSpec> value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        try
        {
            using var document = JsonDocument.Parse(text);
            return TryParseJson(document.RootElement, out value, out error);
        }
        catch (JsonException)
        {
            error = $"expected {Expected} as JSON text";
            return false;
        }
    }

    public override string Format(IReadOnlyList<EgressRuleSpec> value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            WriteJson(writer, value);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public override void WriteJson(Utf8JsonWriter writer, IReadOnlyList<EgressRuleSpec> value)
    {
        writer.WriteStartArray();
        foreach (var rule in value)
        {
            writer.WriteStartObject();
            writer.WriteString("action", rule.Action == EgressAction.Allow ? "allow" : "deny");
            writer.WriteString("to", rule.To);
            if (rule.PortsText is not null)
            {
                writer.WriteString("ports", rule.PortsText);
            }
            if (rule.Protocols != EgressProtocols.All)
            {
                writer.WriteStartArray("protocols");
                foreach (string name in EgressRuleSpec.ProtocolNames(rule.Protocols).Split(','))
                {
                    writer.WriteStringValue(name);
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    public override bool Equal(IReadOnlyList<EgressRuleSpec> a, IReadOnlyList<EgressRuleSpec> b) =>
        a.Count == b.Count && a.Zip(b).All(pair => pair.First.ToString() == pair.Second.ToString());

    /// <summary>One rule; the problem starts with the field (".ports: …") or ": " for the rule as a whole.</summary>
    private static bool TryParseRule(JsonElement item, [NotNullWhen(true)] out EgressRuleSpec? rule, [NotNullWhen(false)] out string? problem)
    {
        rule = null;
        if (item.ValueKind != JsonValueKind.Object)
        {
            problem = ": expected a rule object with \"action\" and \"to\"";
            return false;
        }
        foreach (var property in item.EnumerateObject())
        {
            if (property.Name is not ("action" or "to" or "ports" or "protocols"))
            {
                problem = $": unknown field \"{property.Name}\"; a rule has action, to, ports and protocols";
                return false;
            }
        }
        if (!item.TryGetProperty("action", out var actionNode) || actionNode.ValueKind != JsonValueKind.String
            || actionNode.GetString() is not ("allow" or "deny"))
        {
            problem = ".action: expected \"allow\" or \"deny\"";
            return false;
        }
        var action = actionNode.GetString() == "allow" ? EgressAction.Allow : EgressAction.Deny;
        if (!item.TryGetProperty("to", out var toNode) || toNode.ValueKind != JsonValueKind.String)
        {
            problem = ".to: expected a CIDR (10.0.0.0/8, 2001:db8::/32), a domain (example.com, *.example.com) or \"host\"";
            return false;
        }
        if (!TryParseTarget(toNode.GetString()!, out var target, out string? toProblem))
        {
            problem = $".to: {toProblem}";
            return false;
        }
        (ushort, ushort)[] ports = [];
        string? portsText = null;
        if (item.TryGetProperty("ports", out var portsNode))
        {
            string text = portsNode.ValueKind switch
            {
                JsonValueKind.String => portsNode.GetString()!,
                JsonValueKind.Number => portsNode.GetRawText(),
                _ => "",
            };
            if (text.Trim().Length == 0)
            {
                problem = ".ports: expected ports such as \"443\" or \"443,8000-9000\"";
                return false;
            }
            if (!PortSet.TryParse(text, out var set, out string? portsProblem))
            {
                problem = $".ports: {portsProblem}";
                return false;
            }
            if (!ReferenceEquals(set, PortSet.All))
            {
                ports = [.. set.Ranges];
                portsText = set.ToString();
            }
        }
        var protocols = EgressProtocols.All;
        if (item.TryGetProperty("protocols", out var protocolsNode))
        {
            if (!TryParseProtocols(protocolsNode, out protocols, out string? protocolsProblem))
            {
                problem = $".protocols: {protocolsProblem}";
                return false;
            }
        }
        if (ports.Length > 0 && protocols == EgressProtocols.Icmp)
        {
            problem = ".ports: ICMP has no ports; give the rule tcp or udp, or no ports";
            return false;
        }
        rule = new EgressRuleSpec(action, target.To, target.Kind, target.Network, target.PrefixLength, target.Domain, ports, portsText, protocols);
        problem = null;
        return true;
    }

    private readonly record struct Target(string To, EgressTargetKind Kind, IpAddress Network, int PrefixLength, string? Domain);

    private static bool TryParseTarget(string text, out Target target, [NotNullWhen(false)] out string? problem)
    {
        target = default;
        problem = null;
        string trimmed = text.Trim();
        if (trimmed == "host")
        {
            target = new Target("host", EgressTargetKind.Host, default, 0, null);
            return true;
        }
        if (trimmed.Contains('/'))
        {
            if (Ipv4Cidr.TryParse(trimmed, out var v4, out int prefix))
            {
                var network = new Ipv4Cidr(v4, prefix);
                target = new Target(network.ToString(), EgressTargetKind.Network, network.Network, prefix, null);
                return HostBitsClear(network.Network == v4, text, network.ToString(), out problem);
            }
            if (Ipv6Cidr.TryParse(trimmed, out var v6, out prefix))
            {
                var network = new Ipv6Cidr(v6, prefix);
                target = new Target(network.ToString(), EgressTargetKind.Network, network.Network, prefix, null);
                return HostBitsClear(network.Network == v6, text, network.ToString(), out problem);
            }
            problem = $"\"{text}\" is not a CIDR: an IPv4 prefix is 0..32 long, an IPv6 prefix 0..128";
            return false;
        }
        if (IpAddress.TryParse(trimmed, out var address))
        {
            int length = address.IsV4 ? 32 : 128;
            target = new Target(address.IsV4 ? $"{address.V4}/32" : $"{address.V6}/128", EgressTargetKind.Network, address, length, null);
            return true;
        }
        bool wildcard = trimmed.StartsWith("*.", StringComparison.Ordinal);
        string domain = wildcard ? trimmed[2..] : trimmed;
        if (domain.Contains('*'))
        {
            problem = $"\"{text}\" is not a domain pattern: a wildcard is only \"*.\" at the start, as in *.example.com";
            return false;
        }
        if (DomainName.Problem(domain) is { } domainProblem)
        {
            problem = $"\"{text}\" is not a CIDR, a domain or \"host\": {domainProblem}";
            return false;
        }
        domain = DomainName.Normalize(domain);
        target = new Target(wildcard ? "*." + domain : domain, wildcard ? EgressTargetKind.Subdomains : EgressTargetKind.Domain, default, 0, domain);
        return true;
    }

    private static bool HostBitsClear(bool clear, string text, string network, [NotNullWhen(false)] out string? problem)
    {
        problem = clear ? null : $"\"{text}\" has host bits set; the network is {network}";
        return clear;
    }

    private static bool TryParseProtocols(JsonElement node, out EgressProtocols protocols, [NotNullWhen(false)] out string? problem)
    {
        protocols = EgressProtocols.None;
        problem = null;
        IEnumerable<JsonElement> items = node.ValueKind switch
        {
            JsonValueKind.Array => node.EnumerateArray(),
            JsonValueKind.String => [node],
            _ => [],
        };
        foreach (var item in items)
        {
            string names = item.ValueKind == JsonValueKind.String ? item.GetString()! : "";
            foreach (string name in names.Split(',', StringSplitOptions.TrimEntries))
            {
                var protocol = name switch
                {
                    "tcp" => EgressProtocols.Tcp,
                    "udp" => EgressProtocols.Udp,
                    "icmp" => EgressProtocols.Icmp,
                    _ => EgressProtocols.None,
                };
                if (protocol == EgressProtocols.None)
                {
                    problem = $"\"{Redaction.Redact(name)}\" is not tcp, udp or icmp";
                    return false;
                }
                protocols |= protocol;
            }
        }
        if (protocols == EgressProtocols.None)
        {
            problem = "expected a list of tcp, udp and icmp, such as [\"tcp\"]";
            return false;
        }
        return true;
    }
}
