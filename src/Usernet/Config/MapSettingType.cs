using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Usernet.Config;

/// <summary>
/// Names to lists, such as DNS domains to their servers: a JSON object of lists, or in a flag
/// <c>name=a,b;name2=c</c>. Names are normalized by <paramref name="name"/>, and the map is
/// sorted so that printing and comparing do not depend on the order in the file.
/// </summary>
internal sealed class MapSettingType<T>(string nameExpected, TextParser<string> name, SettingType<T> element)
    : SettingType<IReadOnlyDictionary<string, IReadOnlyList<T>>>
{
    private readonly ListSettingType<T> _list = new(element);

    public override string Expected => $"an object of {nameExpected} to lists of {element.Expected}";

    public override bool TryParseJson(JsonElement json, [MaybeNullWhen(false)] out IReadOnlyDictionary<string, IReadOnlyList<T>> value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        if (json.ValueKind != JsonValueKind.Object)
        {
            error = WrongKind(json);
            return false;
        }
        var builder = ImmutableSortedDictionary.CreateBuilder<string, IReadOnlyList<T>>(StringComparer.Ordinal);
        foreach (var property in json.EnumerateObject())
        {
            bool parsed = _list.TryParseJson(property.Value, out var list, out string? listError);
            if (!TryAdd(builder, property.Name, parsed ? list : null, listError, out error))
            {
                return false;
            }
        }
        value = builder.ToImmutable();
        error = null;
        return true;
    }

    public override bool TryParseText(string text, [MaybeNullWhen(false)] out IReadOnlyDictionary<string, IReadOnlyList<T>> value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        var builder = ImmutableSortedDictionary.CreateBuilder<string, IReadOnlyList<T>>(StringComparer.Ordinal);
        foreach (string entry in text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = entry.IndexOf('=');
            if (equals <= 0)
            {
                error = $"{Quote(entry)} is not name=value[,value...]; write entries as name=a,b;name2=c";
                return false;
            }
            bool parsed = _list.TryParseText(entry[(equals + 1)..], out var list, out string? listError);
            if (!TryAdd(builder, entry[..equals].Trim(), parsed ? list : null, listError, out error))
            {
                return false;
            }
        }
        value = builder.ToImmutable();
        return true;
    }

    /// <summary>Adds one entry; a bad name is reported before a bad list, which is reported under its name.</summary>
    private bool TryAdd(IDictionary<string, IReadOnlyList<T>> map, string rawName, IReadOnlyList<T>? list, string? listError, [NotNullWhen(false)] out string? error)
    {
        if (!name(rawName, out string? key, out error))
        {
            return false;
        }
        error = map.ContainsKey(key) ? $"{key} is given twice"
            : list is null ? $"{key}: {listError}"
            : null;
        if (error is null)
        {
            map.Add(key, list!);
        }
        return error is null;
    }

    public override string Format(IReadOnlyDictionary<string, IReadOnlyList<T>> value) =>
        string.Join(";", value.Select(pair => $"{pair.Key}={_list.Format(pair.Value)}"));

    public override void WriteJson(Utf8JsonWriter writer, IReadOnlyDictionary<string, IReadOnlyList<T>> value)
    {
        writer.WriteStartObject();
        foreach (var (key, list) in value)
        {
            writer.WritePropertyName(key);
            _list.WriteJson(writer, list);
        }
        writer.WriteEndObject();
    }

    public override bool Equal(IReadOnlyDictionary<string, IReadOnlyList<T>> a, IReadOnlyDictionary<string, IReadOnlyList<T>> b) =>
        a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var other) && _list.Equal(pair.Value, other));
}
