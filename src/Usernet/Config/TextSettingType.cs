using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Usernet.Config;

internal delegate bool TextParser<T>(string text, [MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out string? error);

/// <summary>A value written as a JSON string and parsed from its text: addresses, modes, URLs, names.</summary>
internal sealed class TextSettingType<T>(string expected, TextParser<T> parse, Func<T, string>? format = null) : SettingType<T>
{
    public override string Expected => expected;

    public override bool TryParseJson(JsonElement element, [MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out string? error)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            value = default;
            error = WrongKind(element);
            return false;
        }
        return TryParseText(element.GetString()!, out value, out error);
    }

    public override bool TryParseText(string text, [MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out string? error) =>
        parse(text, out value, out error);

    public override string Format(T value) => Redaction.Redact(format is null ? value?.ToString() ?? "" : format(value));

    public override void WriteJson(Utf8JsonWriter writer, T value) => writer.WriteStringValue(Format(value));
}
