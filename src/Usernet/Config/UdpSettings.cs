namespace Usernet.Config;

internal sealed class UdpSettings(SettingValues values)
{
    public int MaxFlows { get; } = values.Get(SettingsSchema.UdpMaxFlows);

    public TimeSpan IdleTimeout { get; } = values.Get(SettingsSchema.UdpIdleTimeout);
}
