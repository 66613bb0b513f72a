namespace Usernet.Config;

internal sealed class TcpSettings(SettingValues values)
{
    /// <summary>Connections the guests open.</summary>
    public int MaxConnections { get; } = values.Get(SettingsSchema.TcpMaxConnections);

    /// <summary>Connections remote clients open through published ports.</summary>
    public int MaxInboundConnections { get; } = values.Get(SettingsSchema.TcpMaxInboundConnections);

    /// <summary>How long a guest SYN waits for the host socket to connect.</summary>
    public TimeSpan ConnectTimeout { get; } = values.Get(SettingsSchema.TcpConnectTimeout);

    public TimeSpan KeepaliveIdle { get; } = values.Get(SettingsSchema.TcpKeepaliveIdle);

    public TimeSpan KeepaliveInterval { get; } = values.Get(SettingsSchema.TcpKeepaliveInterval);

    public int KeepaliveCount { get; } = values.Get(SettingsSchema.TcpKeepaliveCount);
}
