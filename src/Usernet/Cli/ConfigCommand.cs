using Usernet.Config;

namespace Usernet.Cli;

/// <summary><c>usernet config</c>: the effective settings, each with where it came from.</summary>
internal static class ConfigCommand
{
    public static CommandLine Options() => SettingsOptions.AddTo(new CommandLine())
        .Flag("--json", "print JSON instead of KEY = VALUE lines")
        .Flag("--help", "show this help", alias: "-h");

    public static int Execute(IReadOnlyList<string> args)
    {
        var line = Options().Parse(args);
        if (line.Has("--help"))
        {
            Console.WriteLine("Usage: usernet config [OPTIONS]\n");
            Console.WriteLine("Prints every settings key with its effective value and its source: default, admin-settings.json");
            Console.WriteLine("(locked or not), settings.json, or a flag. Passwords in proxy URLs are shown as ***.\n");
            Console.WriteLine("Options:");
            foreach (string help in Options().HelpLines())
            {
                Console.WriteLine(help);
            }
            return 0;
        }
        var settings = SettingsOptions.Load(line);
        Console.Write(line.Has("--json") ? SettingsPrinter.ToJson(settings) : SettingsPrinter.ToText(settings));
        return 0;
    }
}
