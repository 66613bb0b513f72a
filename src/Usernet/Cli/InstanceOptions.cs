using Usernet.Services.Dhcp;
using Usernet.Stack;

namespace Usernet.Cli;

/// <summary>Everything an instance is built from, resolved from the settings.</summary>
internal sealed record InstanceOptions
{
    public required string Name { get; init; }

    public required Config.Settings Settings { get; init; }

    public required StackOptions Stack { get; init; }

    public required DhcpServerOptions Dhcp { get; init; }

    public required Services.Dns.DnsServerOptions Dns { get; init; }

    public int MaxLeases { get; init; } = 250;

    public Stack.Tcp.TcpOptions Tcp { get; init; } = new();

    public string? PcapPath { get; init; }
}
