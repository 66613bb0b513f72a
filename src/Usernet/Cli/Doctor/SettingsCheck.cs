using Usernet.Config;

namespace Usernet.Cli.Doctor;

/// <summary>The settings files Usernet would read here, whether they load, and the administrator's locks.</summary>
internal static class SettingsCheck
{
    private const string Name = "settings";
    private const string Enables = "usernet run and serve start only with settings that load";

    /// <summary>The check, and the options an instance would run with (null when the settings do not load).</summary>
    public static (DoctorCheck Check, InstanceOptions? Options) Run(CommandLine line)
    {
        var paths = SettingsPaths.FromEnvironment(line.Value("--settings"));
        string files = $"{Describe(paths.UserFile)}; {Describe(paths.AdminFile)}";
        InstanceOptions options;
        try
        {
            options = SettingsOptions.Resolve(line, $"doctor-{Environment.ProcessId}");
        }
        catch (UsageException e)
        {
            return (DoctorCheck.Fail(Name, $"{files}; do not load: {e.Message.Replace("\nusernet: ", "; ")}", Enables,
                "correct the key the error names (usernet config lists every key and its value)"), null);
        }
        var locked = options.Settings.Entries.Where(e => e.Source.Locked).Select(e => e.Key).ToList();
        string locks = locked.Count == 0 ? "no locks" : $"locked by {paths.AdminFile}: {string.Join(", ", locked)}";
        return (DoctorCheck.Ok(Name, $"{files}; load; {locks}", Enables), options);
    }

    private static string Describe(string path) => File.Exists(path) ? path : $"{path} (absent)";
}
