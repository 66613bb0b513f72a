using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Usernet.Config;

/// <summary>null (JSON null, or "null" in a flag) or a value: null means "ask the host".</summary>
internal sealed class NullableSettingType<T>(SettingType<T> inner) : SettingType<T?>
    where T : class
{
    private const string Null = "null";

    public override string Expected => $"{inner.Expected}, or null";

    public override bool TryParseJson(JsonElement element, out T? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        return element.ValueKind == JsonValueKind.Null || inner.TryParseJson(element, out value, out error);
    }

    public override bool TryParseText(string text, out T? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        return text == Null || inner.TryParseText(text, out value, out error);
    }

    public override string Format(T? value) => value is null ? Null : inner.Format(value);

    public override void WriteJson(Utf8JsonWriter writer, T? value)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            inner.WriteJson(writer, value);
        }
    }

    public override bool Equal(T? a, T? b) => a is null ? b is null : b is not null && inner.Equal(a, b);
}
