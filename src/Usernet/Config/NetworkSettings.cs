using Usernet.Wire;

namespace Usernet.Config;

/// <summary>The guest network: its subnets, the addresses Usernet answers on, the MTU and the families.</summary>
internal sealed class NetworkSettings(SettingValues values)
{
    /// <summary>vpnkitCIDR.</summary>
    public Ipv4Cidr Subnet { get; } = values.Get(SettingsSchema.VpnkitCidr);

    /// <summary>DHCP, DNS, the HTTP proxy, gateway.docker.internal.</summary>
    public Ipv4Address GatewayIp { get; } = values.Get(SettingsSchema.GatewayIp);

    /// <summary>host.docker.internal; NAT to the host's loopback when <see cref="HostLoopback"/>.</summary>
    public Ipv4Address HostIp { get; } = values.Get(SettingsSchema.HostIp);

    public Ipv4Address FirstGuestIp { get; } = values.Get(SettingsSchema.FirstGuestIp);

    public Ipv6Cidr Ipv6Prefix { get; } = values.Get(SettingsSchema.Ipv6Prefix);

    public Ipv6Address GatewayIpv6 { get; } = values.Get(SettingsSchema.GatewayIpv6);

    public Ipv6Address HostIpv6 { get; } = values.Get(SettingsSchema.HostIpv6);

    public Ipv6Address FirstGuestIpv6 { get; } = values.Get(SettingsSchema.FirstGuestIpv6);

    /// <summary>null is "auto": the link decides (65520 on a TAP, 1500 on a VM link).</summary>
    public int? Mtu { get; } = values.Get(SettingsSchema.Mtu);

    /// <summary>defaultNetworkingMode.</summary>
    public NetworkingMode Mode { get; } = values.Get(SettingsSchema.DefaultNetworkingMode);

    public bool HostLoopback { get; } = values.Get(SettingsSchema.HostLoopback);

    /// <summary>network.guestRoutes: subnet (canonical CIDR text) to the one guest it lies behind.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<IpAddress>> GuestRoutes { get; } = values.Get(SettingsSchema.GuestRoutes);
}
