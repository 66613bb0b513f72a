using Usernet.Platform.Interop;

namespace Usernet.Config;

/// <summary>
/// Where the settings files are. The user file is the path given with --settings, else
/// $XDG_CONFIG_HOME/usernet/settings.json, else ~/.config/usernet/settings.json. The admin
/// file is /etc/usernet/admin-settings.json.
/// </summary>
internal sealed record SettingsPaths(string UserFile, bool UserFileExplicit, string AdminFile)
{
    public const string DefaultAdminFile = "/etc/usernet/admin-settings.json";

    /// <summary>Names another admin file, for tests and packaging; honoured only for root (see <see cref="Resolve"/>).</summary>
    public const string AdminFileVariable = "USERNET_ADMIN_SETTINGS";

    /// <summary>The paths for this process: its environment and whether it runs as the real root.</summary>
    public static SettingsPaths FromEnvironment(string? explicitUserFile) =>
        Resolve(explicitUserFile, Environment.GetEnvironmentVariable, IsHostRoot());

    /// <summary>
    /// Locks exist to bind users who cannot write /etc. If $USERNET_ADMIN_SETTINGS counted for
    /// them, a user could point it at a file of their own and escape every lock, so it counts
    /// only for root, who could edit /etc/usernet anyway.
    /// </summary>
    public static SettingsPaths Resolve(string? explicitUserFile, Func<string, string?> environment, bool isRoot)
    {
        string? adminOverride = environment(AdminFileVariable);
        string adminFile = isRoot && !string.IsNullOrEmpty(adminOverride) ? adminOverride : DefaultAdminFile;
        if (!string.IsNullOrEmpty(explicitUserFile))
        {
            return new SettingsPaths(Path.GetFullPath(explicitUserFile), true, adminFile);
        }
        // The XDG spec says to ignore a relative $XDG_CONFIG_HOME.
        string? configHome = environment("XDG_CONFIG_HOME");
        if (string.IsNullOrEmpty(configHome) || !Path.IsPathRooted(configHome))
        {
            string home = environment("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            configHome = Path.Combine(home, ".config");
        }
        return new SettingsPaths(Path.Combine(configHome, "usernet", "settings.json"), false, adminFile);
    }

    /// <summary>
    /// uid 0 in the host's user namespace. Inside an unprivileged user namespace (unshare -r)
    /// any user is uid 0, which must not count: there /proc/self/uid_map maps 0 to the user's
    /// own uid rather than the whole range from 0.
    /// </summary>
    private static bool IsHostRoot()
    {
        if (Libc.GetUid() != 0 || Libc.GetEUid() != 0)
        {
            return false;
        }
        try
        {
            string[] fields = File.ReadAllText("/proc/self/uid_map").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return fields is ["0", "0", "4294967295"];
        }
        catch (IOException)
        {
            return false;
        }
    }
}
