namespace Usernet.Config;

internal enum SettingSourceKind
{
    Default,
    Admin,
    File,
    Flag,
}

/// <summary>
/// Where an effective value came from, so that <c>usernet config</c> can say why a value is what
/// it is. <see cref="Origin"/> is the file path or the flag as typed.
/// </summary>
internal sealed record SettingSource(SettingSourceKind Kind, string? Origin = null, bool Locked = false)
{
    public static readonly SettingSource Default = new(SettingSourceKind.Default);

    public static SettingSource Admin(string path, bool locked) => new(SettingSourceKind.Admin, path, locked);

    public static SettingSource File(string path) => new(SettingSourceKind.File, path);

    public static SettingSource Flag(string flag) => new(SettingSourceKind.Flag, flag);

    /// <summary>What an error message starts with: the file or the flag the user should look at.</summary>
    public string Label => Redaction.Redact(Origin ?? "default");

    public override string ToString() => Kind switch
    {
        SettingSourceKind.Default => "default",
        SettingSourceKind.Admin => Locked ? $"admin, locked: {Label}" : $"admin: {Label}",
        SettingSourceKind.File => $"file {Label}",
        _ => $"flag {Label}",
    };
}
