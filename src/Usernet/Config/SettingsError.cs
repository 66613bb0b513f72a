namespace Usernet.Config;

/// <summary>
/// One problem found while loading settings: <see cref="Source"/> is the file path, the flag
/// as typed, or "default"; <see cref="Key"/> the setting (null for problems of a whole file);
/// <see cref="Message"/> the sentence a user reads, which names the key itself. Credentials in
/// the text are masked on construction, so no caller can print one by accident.
/// </summary>
internal sealed record SettingsError
{
    public SettingsError(string source, string? key, string message)
    {
        Source = Redaction.Redact(source);
        Key = key;
        Message = Redaction.Redact(message);
    }

    public string Source { get; }

    public string? Key { get; }

    public string Message { get; }

    /// <summary>A problem with a key's value: "source: key: what is wrong".</summary>
    public static SettingsError ForValue(SettingSource source, string key, string problem) =>
        // A problem inside a list item starts with its index ("[2].ports: …"), which reads as part of the key.
        new(source.Label, key, problem.StartsWith('[') ? $"{key}{problem}" : $"{key}: {problem}");

    public override string ToString() => $"{Source}: {Message}";
}
