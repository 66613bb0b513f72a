namespace Usernet.Config;

/// <summary>The proxy for containers, and the ports on which their traffic goes through it transparently.</summary>
internal sealed class ContainersProxySettings(SettingValues values) : ProxySettings(values, SettingsSchema.ContainersProxy)
{
    public PortSet TransparentPorts { get; } = values.Get(SettingsSchema.TransparentPorts);
}
