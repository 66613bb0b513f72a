using Usernet.Wire;

namespace Usernet.Config;

/// <summary>The Prometheus metrics' own listener (off unless <see cref="Listen"/> is set; <c>/metrics</c> on the control socket is always there).</summary>
internal sealed class MetricsSettings(SettingValues values)
{
    /// <summary>null: no TCP listener.</summary>
    public IpEndpoint? Listen { get; } = values.Get(SettingsSchema.MetricsListen);
}
