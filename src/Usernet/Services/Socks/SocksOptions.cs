using Usernet.Wire;

namespace Usernet.Services.Socks;

/// <summary>What the SOCKS server runs with, from the socks.* settings and tcp.connectTimeoutSeconds.</summary>
internal sealed record SocksOptions
{
    public required IpEndpoint Listen { get; init; }

    /// <summary>null: no authentication.</summary>
    public SocksCredentials? Credentials { get; init; }

    /// <summary>Clients in their handshake and open tunnels together.</summary>
    public int MaxConnections { get; init; } = 256;

    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the guest has to answer the SYN before the client hears "host unreachable".</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
