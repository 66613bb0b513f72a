using Usernet.Cli.Doctor;
using Usernet.Config;

namespace Usernet.Cli;

/// <summary>
/// <c>usernet doctor</c>: checks this machine for everything Usernet can use, then runs a live
/// self-test with no outside traffic. Exits 0 when Usernet can run here. The checks live in
/// <c>Cli/Doctor</c>: host facts, the settings, the host's resolver, and the self-test.
/// </summary>
internal static class DoctorCommand
{
    public static CommandLine Options() => new CommandLine()
        .Option("--settings", "FILE", "read settings from FILE instead of ~/.config/usernet/settings.json")
        .Option("--set", "KEY=VALUE", "set any settings key, as in settings.json (repeatable)", repeatable: true)
        .Option("--log-level", "LEVEL", "debug, info, warning (default) or error: Usernet's log during the self-test")
        .Flag("--json", "print JSON (one entry per check) instead of a table")
        .Flag("--help", "show this help", alias: "-h");

    public static int Execute(IReadOnlyList<string> args)
    {
        var line = Options().Parse(args);
        if (line.Has("--help"))
        {
            Help.PrintDoctor();
            return 0;
        }
        if (line.Positional.Count > 0)
        {
            throw new UsageException($"unexpected argument '{line.Positional[0]}'");
        }
        var checks = HostChecks.All().ToList();
        var (settingsCheck, options) = SettingsCheck.Run(line);
        checks.Add(settingsCheck);
        checks.Add(ResolverCheck.Run(options?.Settings.Dns ?? Settings.CreateDefault().Dns));
        // The self-test would only fail the same way (or hang on a device it cannot open).
        var failed = checks.Where(c => c.Status == CheckStatus.Fail).Select(c => c.Name).ToList();
        checks.AddRange(failed.Count > 0 || options is null
            ? SelfTest.NotRun($"not run: {string.Join(", ", failed)} failed above")
            : SelfTest.Run(options));
        var report = new DoctorReport(checks);
        Console.Write(line.Has("--json") ? report.ToJson() : report.ToText());
        return report.ExitCode;
    }
}
