using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Usernet.Config;

/// <summary>
/// One key of the schema, seen without its value type, so that the loader, the printer and
/// the comparison can walk every key alike. <see cref="SettingDefinition{T}"/> holds the typed parts.
/// </summary>
internal abstract class SettingDefinition(string key, SettingsSection section, int index)
{
    /// <summary>The key as settings.json spells it: Docker's flat name, or our dotted path.</summary>
    public string Key { get; } = key;

    public SettingsSection Section { get; } = section;

    /// <summary>The position in the schema table: values are held in arrays in this order.</summary>
    public int Index { get; } = index;

    public abstract string Expected { get; }

    public abstract bool TryParseJson(JsonElement element, out object? value, [NotNullWhen(false)] out string? error);

    public abstract bool TryParseText(string text, out object? value, [NotNullWhen(false)] out string? error);

    /// <summary>The value when no source sets one; may derive from keys earlier in the table.</summary>
    public abstract object? DefaultValue(SettingValues values);

    /// <summary>The value to use for the one the user gave; a key may cap it by others (DHCP leases by the subnet).</summary>
    public abstract object? Limit(SettingValues values, object? value);

    /// <summary>The problems the rules find, leaving out those that read a key which did not load.</summary>
    public abstract IEnumerable<string> Check(SettingValues values, object? value);

    /// <summary>The value in flag syntax, credentials masked.</summary>
    public abstract string Format(object? value);

    public abstract void WriteJson(Utf8JsonWriter writer, object? value);

    public abstract bool Equal(object? a, object? b);

    public override string ToString() => Key;
}
