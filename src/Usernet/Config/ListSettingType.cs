using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Usernet.Config;

/// <summary>
/// A list: a JSON array, or one comma-separated string (the only form a flag has, and the one
/// Docker's older settings use for proxy exclusions).
/// </summary>
internal sealed class ListSettingType<T>(SettingType<T> element) : SettingType<IReadOnlyList<T>>
{
    public override string Expected => $"a list of {element.Expected}";

    public override bool TryParseJson(JsonElement json, [MaybeNullWhen(false)] out IReadOnlyList<T> value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (json.ValueKind == JsonValueKind.String)
        {
            return TryParseText(json.GetString()!, out value, out error);
        }
        if (json.ValueKind != JsonValueKind.Array)
        {
            error = WrongKind(json);
            return false;
        }
        var items = new List<T>();
        int index = 0;
        foreach (var item in json.EnumerateArray())
        {
            index++;
            if (!element.TryParseJson(item, out T? parsed, out error))
            {
                error = $"item {index}: {error}";
                return false;
            }
            items.Add(parsed);
        }
        value = items.AsReadOnly();
        return true;
    }

    public override bool TryParseText(string text, [MaybeNullWhen(false)] out IReadOnlyList<T> value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        var items = new List<T>();
        foreach (string item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!element.TryParseText(item, out T? parsed, out error))
            {
                return false;
            }
            items.Add(parsed);
        }
        value = items.AsReadOnly();
        return true;
    }

    public override string Format(IReadOnlyList<T> value) => string.Join(",", value.Select(element.Format));

    public override void WriteJson(Utf8JsonWriter writer, IReadOnlyList<T> value)
    {
        writer.WriteStartArray();
        foreach (T item in value)
        {
            element.WriteJson(writer, item);
        }
        writer.WriteEndArray();
    }

    public override bool Equal(IReadOnlyList<T> a, IReadOnlyList<T> b) =>
        a.Count == b.Count && a.Zip(b).All(pair => element.Equal(pair.First, pair.Second));
}
