using Usernet.Config;
using Usernet.Wire;

namespace Usernet.Tests.Config;

/// <summary>A user and an admin settings file in a temporary directory, deleted on dispose.</summary>
internal sealed class SettingsFiles : IDisposable
{
    public SettingsFiles()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"usernet-config-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        UserPath = Path.Combine(Directory, "settings.json");
        AdminPath = Path.Combine(Directory, "admin-settings.json");
    }

    public string Directory { get; }

    public string UserPath { get; }

    public string AdminPath { get; }

    public IReadOnlyList<HostNetwork> HostNetworks { get; set; } = [];

    public SettingsFiles User(string json)
    {
        File.WriteAllText(UserPath, json);
        return this;
    }

    public SettingsFiles Admin(string json)
    {
        File.WriteAllText(AdminPath, json);
        return this;
    }

    public SettingsLoadResult Load(params SettingOverride[] flags) => SettingsLoader.Load(new SettingsInput
    {
        Admin = SettingsFileText.Read(AdminPath, mustExist: false),
        User = SettingsFileText.Read(UserPath, mustExist: false),
        Flags = flags,
        HostNetworks = HostNetworks,
    });

    /// <summary>Loads and expects success.</summary>
    public Settings Settings(params SettingOverride[] flags)
    {
        var result = Load(flags);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Settings;
    }

    /// <summary>Loads and expects failure; the errors as the user would read them.</summary>
    public string[] Errors(params SettingOverride[] flags)
    {
        var result = Load(flags);
        Assert.False(result.Succeeded, "expected the settings not to load");
        return result.Errors.Select(e => e.ToString()).ToArray();
    }

    public static SettingOverride Set(string key, string value) => new(key, value, $"--set {key}={value}");

    public static HostNetwork Host(string name, string cidr) => new(name, Ipv4Cidr.Parse(cidr));

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
