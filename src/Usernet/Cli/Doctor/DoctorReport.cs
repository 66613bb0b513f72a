using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Usernet.Cli.Doctor;

/// <summary>What <c>usernet doctor</c> prints: a table for people, or JSON with one entry per check for scripts.</summary>
internal sealed class DoctorReport(IReadOnlyList<DoctorCheck> checks)
{
    private const int NameWidth = 24;

    public IReadOnlyList<DoctorCheck> Checks { get; } = checks;

    /// <summary>Usernet can run here when nothing failed: a warning is a feature missing, not a stop.</summary>
    public bool CanRun => Checks.All(c => c.Status != CheckStatus.Fail);

    public int ExitCode => CanRun ? 0 : 1;

    public string ToText()
    {
        var text = new StringBuilder();
        string? group = null;
        foreach (var check in Checks)
        {
            if (check.Group != group)
            {
                group = check.Group;
                text.Append(group == "host" ? "This machine:\n" : "\nSelf-test (a guest namespace on an in-process Usernet; nothing leaves this machine):\n");
            }
            string status = check.Status switch
            {
                CheckStatus.Ok => "ok",
                CheckStatus.Warn => "warn",
                CheckStatus.Fail => "FAIL",
                _ => "skip",
            };
            string time = check.Group != "host" && check.Elapsed is { } elapsed ? $"{elapsed.TotalMilliseconds,7:0.0} ms  " : "";
            text.Append("  ").Append(status.PadRight(6)).Append(check.Name.PadRight(NameWidth)).Append(time).Append(check.Found).Append('\n');
            string indent = new(' ', 8 + NameWidth);
            text.Append(indent).Append("enables: ").Append(check.Enables).Append('\n');
            if (check.Fix is not null && check.Status is CheckStatus.Warn or CheckStatus.Fail)
            {
                text.Append(indent).Append("fix: ").Append(check.Fix).Append('\n');
            }
        }
        var steps = Checks.Where(c => c.Group != "host" && c.Elapsed is not null).ToList();
        string total = steps.Count > 0 ? $" (self-test: {steps.Sum(c => c.Elapsed!.Value.TotalMilliseconds):0} ms)" : "";
        text.Append('\n').Append(CanRun
            ? $"Usernet can run here{total}. Warnings name features that need more.\n"
            : $"Usernet cannot run here: fix what is marked FAIL{total}.\n");
        return text.ToString();
    }

    /// <summary><c>{"canRun": …, "checks": [{"name", "group", "status", "found", "enables", "fix", "milliseconds"}, …]}</c>.</summary>
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("canRun", CanRun);
            writer.WriteStartArray("checks");
            foreach (var check in Checks)
            {
                writer.WriteStartObject();
                writer.WriteString("name", check.Name);
                writer.WriteString("group", check.Group);
                writer.WriteString("status", check.Status.ToString().ToLowerInvariant());
                writer.WriteString("found", check.Found);
                writer.WriteString("enables", check.Enables);
                if (check.Fix is not null && check.Status is CheckStatus.Warn or CheckStatus.Fail)
                {
                    writer.WriteString("fix", check.Fix);
                }
                else
                {
                    writer.WriteNull("fix");
                }
                if (check.Elapsed is { } elapsed)
                {
                    writer.WriteNumber("milliseconds", Math.Round(elapsed.TotalMilliseconds, 2));
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }
}
