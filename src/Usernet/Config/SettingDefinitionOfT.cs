using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Usernet.Config;

/// <summary>A key with its value type, default and rules: one line of the schema table.</summary>
internal sealed class SettingDefinition<T>(
    string key,
    SettingsSection section,
    int index,
    SettingType<T> type,
    Func<SettingValues, T> fallback,
    SettingRule<T>[] rules,
    Func<SettingValues, T, T>? limit)
    : SettingDefinition(key, section, index)
{
    public SettingType<T> Type { get; } = type;

    public override string Expected => Type.Expected;

    public override bool TryParseJson(JsonElement element, out object? value, [NotNullWhen(false)] out string? error)
    {
        bool parsed = Type.TryParseJson(element, out T? typed, out error);
        value = typed;
        return parsed;
    }

    public override bool TryParseText(string text, out object? value, [NotNullWhen(false)] out string? error)
    {
        bool parsed = Type.TryParseText(text, out T? typed, out error);
        value = typed;
        return parsed;
    }

    public override object? DefaultValue(SettingValues values) => fallback(values);

    public override object? Limit(SettingValues values, object? value) => limit is null ? value : limit(values, (T)value!);

    public override IEnumerable<string> Check(SettingValues values, object? value)
    {
        foreach (var rule in rules)
        {
            // A rule that read a key which did not load would report a consequence, not a cause.
            if (values.Track(() => rule(values, (T)value!), out bool readFailed) is { } problem && !readFailed)
            {
                yield return problem;
            }
        }
    }

    public override string Format(object? value) => Type.Format((T)value!);

    public override void WriteJson(Utf8JsonWriter writer, object? value) => Type.WriteJson(writer, (T)value!);

    public override bool Equal(object? a, object? b) => Type.Equal((T)a!, (T)b!);
}
