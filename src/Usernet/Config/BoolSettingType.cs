using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Usernet.Config;

internal sealed class BoolSettingType : SettingType<bool>
{
    public override string Expected => "true or false";

    public override bool TryParseJson(JsonElement element, out bool value, [NotNullWhen(false)] out string? error)
    {
        value = element.ValueKind == JsonValueKind.True;
        error = element.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : WrongKind(element);
        return error is null;
    }

    public override bool TryParseText(string text, out bool value, [NotNullWhen(false)] out string? error)
    {
        value = text == "true";
        error = text is "true" or "false" ? null : $"{Quote(text)} is not {Expected}";
        return error is null;
    }

    public override string Format(bool value) => value ? "true" : "false";

    public override void WriteJson(Utf8JsonWriter writer, bool value) => writer.WriteBooleanValue(value);
}
