namespace Usernet.Config;

/// <summary>The six keys that proxy and containersProxy share, so that one definition serves both.</summary>
internal sealed record ProxyKeys(
    SettingDefinition<ProxyMode> Mode,
    SettingDefinition<ProxyUri?> Http,
    SettingDefinition<ProxyUri?> Https,
    SettingDefinition<IReadOnlyList<string>> Exclude,
    SettingDefinition<string> Pac,
    SettingDefinition<string> EmbeddedPac);
