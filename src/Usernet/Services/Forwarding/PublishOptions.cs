using Usernet.Config;

namespace Usernet.Services.Forwarding;

/// <summary>How published ports bind and whom the guest sees connecting.</summary>
internal sealed record PublishOptions
{
    public PortBindingBehavior BindingBehavior { get; init; } = PortBindingBehavior.DefaultPortBinding;

    /// <summary>
    /// Whether a port <c>-p auto</c> publishes listens on every interface: only when
    /// portBindingBehavior is set to default-port-binding on purpose. Otherwise it is loopback,
    /// since the guest, not the user, chooses which ports those are.
    /// </summary>
    public bool AutoOnEveryInterface { get; init; }

    /// <summary>Whether the guest sees the real client address (where its family allows).</summary>
    public bool PreserveClientAddress { get; init; } = true;

    public TimeSpan UdpIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The clients one published UDP port keeps a mapping for (udp.maxFlows); a new one beyond it evicts the least recently used.</summary>
    public int UdpMaxClients { get; init; } = 4096;
}
