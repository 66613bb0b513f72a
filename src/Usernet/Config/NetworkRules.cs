using Usernet.Wire;

namespace Usernet.Config;

/// <summary>The rules that tie the guest network's addresses together.</summary>
internal static class NetworkRules
{
    /// <summary>IPv6 requires every link to carry 1280-byte packets (RFC 8200 §5).</summary>
    public const int Ipv6MinimumMtu = 1280;

    /// <summary>Docker Desktop's host address is prefix::254, hex as IPv6 text is.</summary>
    public const int HostIpv6Offset = 0x254;

    public static string? InSubnet(SettingValues values, Ipv4Address address)
    {
        var subnet = values.Get(SettingsSchema.VpnkitCidr);
        return !subnet.Contains(address) ? $"{address} is outside vpnkitCIDR {subnet}"
            : address == subnet.Network ? $"{address} is the network address of {subnet}"
            : address == subnet.Broadcast ? $"{address} is the broadcast address of {subnet}"
            : null;
    }

    public static string? InPrefix(SettingValues values, Ipv6Address address)
    {
        var prefix = values.Get(SettingsSchema.Ipv6Prefix);
        return !prefix.Contains(address) ? $"{address} is outside network.ipv6Prefix {prefix}"
            : address == prefix.Network ? $"{address} is the subnet-router anycast address of {prefix} (RFC 4291 §2.6.1)"
            : null;
    }

    /// <summary>Gateway, host and first guest each need an address of their own.</summary>
    public static SettingRule<T> DiffersFrom<T>(params SettingDefinition<T>[] others) where T : struct =>
        (values, address) => others.FirstOrDefault(other => values.Get(other).Equals(address)) is { } same
            ? $"{address} is the same address as {same.Key}"
            : null;

    public static string? NotOnHostNetwork(SettingValues values, Ipv4Cidr subnet) =>
        values.HostNetworks.FirstOrDefault(host => host.Network.Overlaps(subnet)) is { } overlap
            ? $"{subnet} overlaps {overlap.Network} on host interface {overlap.Interface}, a network this host is directly connected to; choose another vpnkitCIDR"
            : null;

    public static string? MtuCarriesIpv6(SettingValues values, int? mtu) =>
        mtu < Ipv6MinimumMtu && values.Get(SettingsSchema.DefaultNetworkingMode) is NetworkingMode.DualStack or NetworkingMode.Ipv6Only
            ? $"{mtu} is below {Ipv6MinimumMtu}, the least IPv6 allows (RFC 8200 §5), and defaultNetworkingMode {DefaultNetworkingModeName(values)} enables IPv6"
            : null;

    /// <summary>
    /// Each routed subnet names one guest of its family on the guests' network, and lies outside
    /// that network (a guest's own subnet needs no route).
    /// </summary>
    public static string? RoutesIntoGuests(SettingValues values, IReadOnlyDictionary<string, IReadOnlyList<IpAddress>> routes)
    {
        var subnet = values.Get(SettingsSchema.VpnkitCidr);
        var prefix = values.Get(SettingsSchema.Ipv6Prefix);
        foreach (var (network, via) in routes)
        {
            if (via.Count != 1)
            {
                return $"{network} must lie behind exactly one guest, not {via.Count} addresses";
            }
            var guest = via[0];
            if (Ipv4Cidr.TryParse(network, out var v4))
            {
                if (!guest.IsV4)
                {
                    return $"{network} is IPv4, and {guest} is not";
                }
                if (v4.Overlaps(subnet))
                {
                    return $"{network} overlaps vpnkitCIDR {subnet}, where the guests are already";
                }
                if ((InSubnet(values, guest.V4) ?? Own(guest, values.Get(SettingsSchema.GatewayIp), values.Get(SettingsSchema.HostIp))) is { } problem)
                {
                    return $"{network}: the guest {problem}";
                }
            }
            else
            {
                var v6 = Ipv6Cidr.Parse(network);
                if (guest.IsV4)
                {
                    return $"{network} is IPv6, and {guest} is not";
                }
                if (v6.Overlaps(prefix))
                {
                    return $"{network} overlaps network.ipv6Prefix {prefix}, where the guests are already";
                }
                if ((InPrefix(values, guest.V6) ?? Own(guest, values.Get(SettingsSchema.GatewayIpv6), values.Get(SettingsSchema.HostIpv6))) is { } problem)
                {
                    return $"{network}: the guest {problem}";
                }
            }
        }
        return null;
    }

    private static string? Own(IpAddress guest, IpAddress gateway, IpAddress host) =>
        guest == gateway || guest == host ? $"{guest} is Usernet's own address (the gateway or the host), not a guest's" : null;

    /// <summary>How many guests DHCP can serve: first guest to the last address, less gateway and host.</summary>
    public static int GuestPoolSize(SettingValues values)
    {
        var subnet = values.Get(SettingsSchema.VpnkitCidr);
        uint first = values.Get(SettingsSchema.FirstGuestIp).Value;
        uint last = subnet.Broadcast.Value - 1;
        long size = (long)last - first + 1;
        foreach (var taken in new[] { values.Get(SettingsSchema.GatewayIp), values.Get(SettingsSchema.HostIp) })
        {
            if (taken.Value >= first && taken.Value <= last)
            {
                size--;
            }
        }
        return (int)Math.Max(size, 1);
    }

    private static string DefaultNetworkingModeName(SettingValues values) =>
        SettingsSchema.DefaultNetworkingMode.Type.Format(values.Get(SettingsSchema.DefaultNetworkingMode));
}
