using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Usernet.Config;

/// <summary>
/// <c>usernet config</c>: every key's effective value and where it came from, as text or JSON.
/// Values are shown in flag syntax, so a line can be typed back as <c>--set KEY=VALUE</c>;
/// credentials are masked in both forms.
/// </summary>
internal static class SettingsPrinter
{
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>One line a key: <c>KEY = VALUE    (source)</c>.</summary>
    public static string ToText(Settings settings)
    {
        var text = new StringBuilder();
        foreach (var entry in settings.Entries)
        {
            text.Append(entry.Key).Append(" = ").Append(Show(entry.FormattedValue))
                .Append("    (").Append(entry.Source).Append(')').Append('\n');
            if (entry.Definition == SettingsSchema.EgressRules && settings.Egress.Rules.Count > 0)
            {
                AppendEgressRules(text, settings);
            }
        }
        return text.ToString();
    }

    /// <summary>
    /// The egress rules one a line, in the order they are tried, each saying whose it is: the
    /// admin's locked rules come first, so the user's cannot override them.
    /// </summary>
    private static void AppendEgressRules(StringBuilder text, Settings settings)
    {
        var rules = settings.Egress.Rules;
        for (int i = 0; i < rules.Count; i++)
        {
            var rule = rules[i] with { Admin = false };
            text.Append("    [").Append(i).Append("] ").Append(rule)
                .Append(rules[i].Admin ? "    (admin, locked: tried before every user rule)" : "    (user)").Append('\n');
        }
        text.Append("    then egress.default: ").Append(settings.Egress.Default == Stack.Egress.EgressAction.Allow ? "allow" : "deny");
        if (settings.SourceOf(SettingsSchema.EgressDefault).Locked && settings.Egress.Default == Stack.Egress.EgressAction.Deny)
        {
            text.Append("    (locked deny: user allow rules are ignored)");
        }
        text.Append('\n');
    }

    /// <summary><c>{"KEY": {"value": …, "source": "…"}, …}</c>, values as settings.json would hold them.</summary>
    public static string ToJson(Settings settings)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = Encoder }))
        {
            writer.WriteStartObject();
            foreach (var entry in settings.Entries)
            {
                writer.WriteStartObject(entry.Key);
                writer.WritePropertyName("value");
                entry.Definition.WriteJson(writer, entry.Value);
                writer.WriteString("source", entry.Source.ToString());
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    /// <summary>Plain when it reads unambiguously; quoted and escaped when empty, padded or multi-line.</summary>
    private static string Show(string value) =>
        value.Length == 0 || value.Trim().Length != value.Length || value.Any(char.IsControl) || value.StartsWith('"')
            ? $"\"{JsonEncodedText.Encode(value, Encoder)}\""
            : value;
}
