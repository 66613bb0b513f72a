namespace Usernet.Config;

/// <summary>
/// A command-line override: <see cref="Key"/> as in settings.json (dotted), <see cref="Value"/>
/// as typed, and <see cref="Flag"/> as the user typed it ("--mtu" or "--set network.mtu=1400")
/// so that an error points at the flag rather than the key.
/// </summary>
internal sealed record SettingOverride(string Key, string Value, string Flag)
{
    /// <summary>Reads the argument of <c>--set KEY=VALUE</c>.</summary>
    public static bool TryParseAssignment(string argument, out SettingOverride setting)
    {
        int equals = argument.IndexOf('=');
        setting = equals > 0
            ? new SettingOverride(argument[..equals].Trim(), argument[(equals + 1)..], $"--set {argument}")
            : new SettingOverride("", "", $"--set {argument}");
        return equals > 0;
    }

    /// <summary>The flag as typed, masked: the value may be a proxy URL with a password.</summary>
    public override string ToString() => Redaction.Redact($"{Flag} ({Key}={Value})");
}
