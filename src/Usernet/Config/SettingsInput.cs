namespace Usernet.Config;

/// <summary>Everything loading depends on; the same input always gives the same result.</summary>
internal sealed record SettingsInput
{
    public SettingsFileText? Admin { get; init; }

    public SettingsFileText? User { get; init; }

    public IReadOnlyList<SettingOverride> Flags { get; init; } = [];

    public IReadOnlyList<HostNetwork> HostNetworks { get; init; } = [];

    /// <summary>Reads the files at <paramref name="paths"/> and the host's networks now.</summary>
    public static SettingsInput FromSystem(SettingsPaths paths, IReadOnlyList<SettingOverride> flags) => new()
    {
        Admin = SettingsFileText.Read(paths.AdminFile, mustExist: false),
        User = SettingsFileText.Read(paths.UserFile, paths.UserFileExplicit),
        Flags = flags,
        HostNetworks = HostNetwork.FromInterfaces(),
    };
}
