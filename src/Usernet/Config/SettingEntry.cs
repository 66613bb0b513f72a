namespace Usernet.Config;

/// <summary>One key's effective value and its source, as <c>usernet config</c> lists them.</summary>
internal sealed record SettingEntry(SettingDefinition Definition, object? Value, SettingSource Source)
{
    public string Key => Definition.Key;

    /// <summary>The value in flag syntax, credentials masked.</summary>
    public string FormattedValue => Definition.Format(Value);
}
