using Usernet.Services.Dhcp;
using Usernet.Stack;

namespace Usernet.Cli;

/// <summary>Everything an instance is built from, resolved from the settings.</summary>
internal sealed record InstanceOptions
{
    public required string Name { get; init; }

    public required Config.Settings Settings { get; init; }

    /// <summary>Where the settings were read from, and the flags over them: what a reload reads again (null: nothing to reload).</summary>
    public Config.SettingsPaths? SettingsPaths { get; init; }

    public IReadOnlyList<Config.SettingOverride> SettingsFlags { get; init; } = [];

    public required StackOptions Stack { get; init; }

    public required DhcpServerOptions Dhcp { get; init; }

    public required Services.Dhcp6.Dhcpv6ServerOptions Dhcp6 { get; init; }

    /// <summary>The networking mode in force (auto already resolved against the host).</summary>
    public Config.NetworkingMode Mode { get; init; } = Config.NetworkingMode.DualStack;
    public required Services.Dns.DnsServerOptions Dns { get; init; }

    public int MaxLeases { get; init; } = 250;

    public Services.Forwarding.PublishOptions Publish { get; init; } = new();

    /// <summary>Ports to publish at start: the settings' ports.publish, then every -p.</summary>
    public IReadOnlyList<string> PublishSpecs { get; init; } = [];

    public Stack.Tcp.TcpOptions Tcp { get; init; } = new();

    public Stack.Udp.UdpOptions Udp { get; init; } = new();

    /// <summary>The SOCKS5 server into the guests' networks; null: none (socks.listen is "").</summary>
    public Services.Socks.SocksOptions? Socks { get; init; }

    /// <summary>Where Prometheus scrapes <c>/metrics</c> over TCP (metrics.listen); null: only on the control socket.</summary>
    public Wire.IpEndpoint? MetricsListen { get; init; }

    /// <summary>The flow log's file (log.flows); null: the control API's stream only.</summary>
    public string? FlowLogPath { get; init; }

    public long FlowLogMaxBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>A flow log line at each flow's start too (log.flowStarts).</summary>
    public bool FlowLogStarts { get; init; }

    public string? PcapPath { get; init; }

    /// <summary>The most bytes the capture may take (--pcap-limit); null: no limit.</summary>
    public long? PcapLimit { get; init; }
}
