using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Usernet.Config;

/// <summary>
/// How one kind of value is read from settings.json and from a flag, and how it is shown.
/// Errors say what is wrong with the value without naming the key: the loader adds the source
/// and the key. Shown forms mask credentials.
/// </summary>
internal abstract class SettingType<T>
{
    /// <summary>What a value looks like, for messages: "an IPv4 address".</summary>
    public abstract string Expected { get; }

    public abstract bool TryParseJson(JsonElement element, [MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out string? error);

    public abstract bool TryParseText(string text, [MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out string? error);

    /// <summary>The value in flag syntax, so that what <c>usernet config</c> prints can be typed back.</summary>
    public abstract string Format(T value);

    public abstract void WriteJson(Utf8JsonWriter writer, T value);

    public virtual bool Equal(T a, T b) => EqualityComparer<T>.Default.Equals(a, b);

    /// <summary>The error for a JSON value of the wrong kind; the value itself is not quoted.</summary>
    protected string WrongKind(JsonElement element) => $"expected {Expected}, not {KindName(element.ValueKind)}";

    private static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary>A value quoted into a message: strings in quotes, masked.</summary>
    protected static string Quote(string text) => $"\"{Redaction.Redact(text)}\"";
}
