namespace Usernet.Stack.Udp;

/// <summary>Limits and timers of UDP NAT, from the settings.</summary>
internal sealed record UdpOptions
{
    public int MaxFlows { get; init; } = 4096;

    /// <summary>A flow with no datagram either way for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
