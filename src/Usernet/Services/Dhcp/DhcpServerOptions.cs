using Usernet.Wire;

namespace Usernet.Services.Dhcp;

/// <summary>What the DHCP server tells guests.</summary>
internal sealed record DhcpServerOptions
{
    public required Ipv4Address ServerAddress { get; init; }

    public required Ipv4Address Router { get; init; }

    public required int PrefixLength { get; init; }

    public required IReadOnlyList<Ipv4Address> DnsServers { get; init; }

    public IReadOnlyList<string> SearchDomains { get; init; } = [];

    public TimeSpan LeaseTime { get; init; } = TimeSpan.FromHours(1);

    public Ipv4Address SubnetMask => new(PrefixLength == 0 ? 0 : uint.MaxValue << (32 - PrefixLength));

    public Ipv4Address Broadcast => new(ServerAddress.Value | ~SubnetMask.Value);
}
