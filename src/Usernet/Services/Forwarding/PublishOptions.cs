using Usernet.Config;

namespace Usernet.Services.Forwarding;

/// <summary>How published ports bind and whom the guest sees connecting.</summary>
internal sealed record PublishOptions
{
    public PortBindingBehavior BindingBehavior { get; init; } = PortBindingBehavior.DefaultPortBinding;

    /// <summary>Whether the guest sees the real client address (where its family allows).</summary>
    public bool PreserveClientAddress { get; init; } = true;

    public TimeSpan UdpIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The clients one published UDP port keeps a mapping for (udp.maxFlows); a new one beyond it evicts the least recently used.</summary>
    public int UdpMaxClients { get; init; } = 4096;
}
