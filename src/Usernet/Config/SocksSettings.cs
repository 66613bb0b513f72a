using Usernet.Wire;

namespace Usernet.Config;

/// <summary>The SOCKS5 server on the host, into the guests' networks (off unless <see cref="Listen"/> is set).</summary>
internal sealed class SocksSettings(SettingValues values)
{
    /// <summary>null: no SOCKS server.</summary>
    public IpEndpoint? Listen { get; } = values.Get(SettingsSchema.SocksListen);

    public string User { get; } = values.Get(SettingsSchema.SocksUser);

    public string Password { get; } = values.Get(SettingsSchema.SocksPassword);

    public int MaxConnections { get; } = values.Get(SettingsSchema.SocksMaxConnections);

    public TimeSpan HandshakeTimeout { get; } = values.Get(SettingsSchema.SocksHandshakeTimeout);
}
