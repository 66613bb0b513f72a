namespace Usernet.Config;

internal sealed class DhcpSettings(SettingValues values)
{
    public TimeSpan LeaseTime { get; } = values.Get(SettingsSchema.DhcpLease);

    /// <summary>Already capped by the guest addresses the subnet has.</summary>
    public int MaxLeases { get; } = values.Get(SettingsSchema.DhcpMaxLeases);
}
