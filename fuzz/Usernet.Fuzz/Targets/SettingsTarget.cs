using System.Text;
using Usernet.Cli;
using Usernet.Config;
using Usernet.Wire;

namespace Usernet.Fuzz.Targets;

/// <summary>
/// Settings as Usernet loads them: the input is settings.json, then after a NUL byte
/// admin-settings.json, then after another NUL `--set KEY=VALUE` flags, one a line. Loading
/// must end in settings or in errors, never in an exception; settings that load must turn
/// into an instance's options and print (`usernet config`) without one either.
/// </summary>
internal sealed class SettingsTarget : IFuzzTarget
{
    private static readonly IReadOnlyList<HostNetwork> HostNetworks = [new("eth0", Ipv4Cidr.Parse("198.18.0.0/15"))];

    public void Run(ReadOnlySpan<byte> data)
    {
        string[] parts = Encoding.UTF8.GetString(data).Split('\0', 3);
        var flags = new List<SettingOverride>();
        if (parts.Length > 2)
        {
            foreach (string line in parts[2].Split('\n'))
            {
                if (SettingOverride.TryParseAssignment(line, out var flag))
                {
                    flags.Add(flag);
                }
            }
        }
        var result = SettingsLoader.Load(new SettingsInput
        {
            User = new SettingsFileText("/fuzz/settings.json", parts[0]),
            Admin = parts.Length > 1 ? new SettingsFileText("/fuzz/admin-settings.json", parts[1]) : null,
            Flags = flags,
            HostNetworks = HostNetworks,
        });
        PropertyException.Check(result.Succeeded != result.Errors.Count > 0, "settings that both loaded and failed");
        if (result.Settings is { } settings)
        {
            SettingsOptions.FromSettings(settings, "fuzz");
            SettingsPrinter.ToText(settings);
            SettingsPrinter.ToJson(settings);
        }
    }
}
