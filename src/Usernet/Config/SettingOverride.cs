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
        if (equals <= 0)
        {
            setting = new SettingOverride("", "", $"--set {argument}");
            return false;
        }
        string key = argument[..equals].Trim();
        // A password is never shown, not even as the flag that set it.
        string flag = SettingsSchema.IsSecret(key) ? $"--set {key}={Redaction.Mask}" : $"--set {argument}";
        setting = new SettingOverride(key, argument[(equals + 1)..], flag);
        return true;
    }

    /// <summary>The flag as typed, masked: the value may be a proxy URL with a password, or a password.</summary>
    public override string ToString() =>
        SettingsSchema.IsSecret(Key) ? $"{Flag} ({Key}={Redaction.Mask})" : Redaction.Redact($"{Flag} ({Key}={Value})");
}
