using System.Text;
using System.Text.Json;

namespace Usernet.Cli;

/// <summary><c>usernet policy reload|show</c>: the egress policy of a running instance.</summary>
internal static class PolicyCommand
{
    public static int Execute(IReadOnlyList<string> args) =>
        ReloadOrShowCommand.Execute(args, "policy", "/policy", body => Summary(body, "egress"), body => Summary(body, null));

    /// <summary>The default, then one line a rule with the flows it decided.</summary>
    private static string Summary(string body, string? section)
    {
        using var document = JsonDocument.Parse(body);
        var egress = section is null ? document.RootElement : document.RootElement.GetProperty(section);
        var text = new StringBuilder();
        foreach (var rule in egress.GetProperty("rules").EnumerateArray())
        {
            text.Append('[').Append(rule.GetProperty("index").GetInt32()).Append("] ").Append(rule.GetProperty("rule").GetString())
                .Append("    flows: ").Append(rule.GetProperty("flows").GetInt64()).Append('\n');
        }
        text.Append("default ").Append(egress.GetProperty("default").GetString())
            .Append("    flows allowed: ").Append(egress.GetProperty("defaultAllowed").GetInt64())
            .Append(", denied: ").Append(egress.GetProperty("defaultDenied").GetInt64()).Append('\n');
        return text.ToString();
    }
}
