using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Usernet.Config;

/// <summary>"auto" (held as null: whoever uses the value decides) or a value of the inner type.</summary>
internal sealed class AutoOrSettingType<T>(SettingType<T> inner) : SettingType<T?>
    where T : struct
{
    private const string Auto = "auto";

    public override string Expected => $"\"{Auto}\" or {inner.Expected}";

    public override bool TryParseJson(JsonElement element, out T? value, [NotNullWhen(false)] out string? error)
    {
        if (element.ValueKind == JsonValueKind.String)
        {
            return TryParseText(element.GetString()!, out value, out error);
        }
        bool parsed = inner.TryParseJson(element, out T number, out error);
        value = parsed ? number : null;
        return parsed;
    }

    public override bool TryParseText(string text, out T? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        if (text == Auto)
        {
            error = null;
            return true;
        }
        if (inner.TryParseText(text, out T number, out error))
        {
            value = number;
            return true;
        }
        // The inner error is about numbers; a word that is not "auto" deserves one that names both forms.
        if (char.IsAsciiLetter(text.FirstOrDefault()))
        {
            error = $"{Quote(text)} is not {Expected}";
        }
        return false;
    }

    public override string Format(T? value) => value is { } inside ? inner.Format(inside) : Auto;

    public override void WriteJson(Utf8JsonWriter writer, T? value)
    {
        if (value is { } inside)
        {
            inner.WriteJson(writer, inside);
        }
        else
        {
            writer.WriteStringValue(Auto);
        }
    }
}
