using System.Text.Json;

namespace Usernet.Config;

/// <summary>
/// Walks one settings file and finds the JSON node for each key, checking the file's shape:
/// syntax, unknown keys, objects where sections are, admin locks. Values are parsed later by
/// the loader, which knows which of them count. Keys are nested objects
/// (<c>"tcp": {"maxConnections": 5000}</c>) or dotted names (<c>"tcp.maxConnections": 5000</c>).
/// In admin-settings.json any node may be a lock: <c>{"locked": true, "value": …}</c>, or for a
/// section Docker's inline form with the keys beside "locked"; a locked section locks every key
/// under it, at its default where the lock gives no value.
/// </summary>
internal sealed class SettingsFileReader : IDisposable
{
    private const string LockedProperty = "locked";
    private const string ValueProperty = "value";

    private static readonly JsonDocumentOptions Options = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    private readonly bool _admin;
    private readonly List<SettingsError> _errors;
    private readonly Dictionary<SettingDefinition, RawSetting> _entries = [];
    private JsonDocument? _document;

    private SettingsFileReader(string path, bool admin, List<SettingsError> errors)
    {
        Path = path;
        _admin = admin;
        _errors = errors;
    }

    public string Path { get; }

    /// <summary>The file's node for each key it sets; the nodes live until <see cref="Dispose"/>.</summary>
    public IReadOnlyDictionary<SettingDefinition, RawSetting> Entries => _entries;

    /// <summary>A key's node in the file; <see cref="Value"/> is null for a lock that gives no value.</summary>
    public readonly record struct RawSetting(JsonElement? Value, bool Locked)
    {
        /// <summary>Not the JSON: it may hold credentials.</summary>
        public override string ToString() => Locked ? "locked" : "unlocked";
    }

    /// <summary>Reads <paramref name="file"/>, adding its problems to <paramref name="errors"/>; null when there is no file.</summary>
    public static SettingsFileReader? Read(SettingsFileText? file, bool admin, List<SettingsError> errors)
    {
        if (file is null || (file.Contents is null && file.ReadError is null))
        {
            return null;
        }
        var reader = new SettingsFileReader(file.Path, admin, errors);
        if (file.ReadError is not null)
        {
            reader.Error(null, file.ReadError);
            return reader;
        }
        try
        {
            reader._document = JsonDocument.Parse(file.Contents!, Options);
        }
        catch (JsonException e)
        {
            reader.Error(null, $"invalid JSON at line {e.LineNumber + 1}, column {e.BytePositionInLine + 1}: {Reason(e)}");
            return reader;
        }
        var root = reader._document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            reader.Error(null, "expected a JSON object of settings at the top");
            return reader;
        }
        foreach (var property in root.EnumerateObject())
        {
            // Docker's admin-settings.json carries its format version; there is only one here.
            if (property.Name != "configurationFileVersion")
            {
                reader.Visit(property.Name, property.Value, locked: false);
            }
        }
        return reader;
    }

    public void Dispose() => _document?.Dispose();

    private void Visit(string key, JsonElement node, bool locked)
    {
        var definition = SettingsSchema.Find(key);
        if (definition is null && !SettingsSchema.IsSection(key))
        {
            string? suggestion = KeySuggestion.Nearest(key, SettingsSchema.Names);
            Error(key, $"unknown key \"{key}\"" + (suggestion is null ? "" : $"; did you mean \"{suggestion}\"?"));
            return;
        }
        if (node.ValueKind == JsonValueKind.Object && node.TryGetProperty(LockedProperty, out var lockNode))
        {
            if (_admin)
            {
                VisitLock(key, definition, node, lockNode, locked);
            }
            else
            {
                Error(key, $"{key}: only admin-settings.json can lock a setting");
            }
            return;
        }
        if (definition is not null)
        {
            Add(definition, node, locked);
        }
        else if (node.ValueKind != JsonValueKind.Object)
        {
            Error(key, $"{key} is a group of settings ({string.Join(", ", SettingsSchema.Under(key).Take(3))}, …); expected an object");
        }
        else
        {
            VisitChildren(key, node.EnumerateObject(), locked);
        }
    }

    private void VisitLock(string key, SettingDefinition? definition, JsonElement node, JsonElement lockNode, bool outerLocked)
    {
        if (lockNode.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Error(key, $"{key}: \"locked\" must be true or false");
            return;
        }
        bool locked = outerLocked || lockNode.ValueKind == JsonValueKind.True;
        bool hasValue = node.TryGetProperty(ValueProperty, out var value);
        var inline = node.EnumerateObject().Where(p => p.Name is not LockedProperty and not ValueProperty).ToList();
        if (definition is not null)
        {
            if (inline.Count > 0)
            {
                Error(key, $"{key}: a lock has \"locked\" and \"value\", not \"{inline[0].Name}\"");
            }
            else if (hasValue || locked)
            {
                Add(definition, hasValue ? value : null, locked);
            }
            return;
        }
        if (hasValue && inline.Count > 0)
        {
            Error(key, $"{key}: give the section's keys inside \"value\" or beside \"locked\", not both");
            return;
        }
        if (hasValue && value.ValueKind != JsonValueKind.Object)
        {
            Error(key, $"{key} is a group of settings; its \"value\" must be an object");
            return;
        }
        VisitChildren(key, hasValue ? value.EnumerateObject() : inline, locked);
        if (locked)
        {
            foreach (var under in SettingsSchema.Under(key).Where(d => !_entries.ContainsKey(d)))
            {
                _entries.Add(under, new RawSetting(null, Locked: true));
            }
        }
    }

    private void VisitChildren(string section, IEnumerable<JsonProperty> properties, bool locked)
    {
        foreach (var property in properties)
        {
            Visit($"{section}.{property.Name}", property.Value, locked);
        }
    }

    private void Add(SettingDefinition definition, JsonElement? value, bool locked)
    {
        if (!_entries.TryAdd(definition, new RawSetting(value, locked)))
        {
            Error(definition.Key, $"{definition.Key} is set more than once");
        }
    }

    private void Error(string? key, string message) => _errors.Add(new SettingsError(Path, key, message));

    /// <summary>
    /// The parser's message on one line, without the position suffix that the caller gives as
    /// line and column. It may quote a bad token, which can run over lines.
    /// </summary>
    private static string Reason(JsonException e)
    {
        string message = e.Message;
        int position = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        message = (position < 0 ? message : message[..position]).TrimEnd('.', ' ');
        return string.Concat(message.Select(c => char.IsControl(c) ? ' ' : c));
    }
}
