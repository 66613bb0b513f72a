using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>The addresses and limits the stack runs with, taken from the settings.</summary>
internal sealed record StackOptions
{
    /// <summary>The one MAC behind which the gateway and host IPs live.</summary>
    public MacAddress Mac { get; init; } = DefaultMac;

    public Ipv4Cidr Subnet { get; init; } = Ipv4Cidr.Parse("192.168.65.0/24");

    public Ipv4Address Gateway { get; init; } = Ipv4Address.Parse("192.168.65.1");

    public Ipv4Address Host { get; init; } = Ipv4Address.Parse("192.168.65.254");

    public Ipv4Address FirstGuest { get; init; } = Ipv4Address.Parse("192.168.65.3");

    public bool Ipv4Enabled { get; init; } = true;

    public bool Ipv6Enabled { get; init; } = true;

    public Ipv6Cidr Ipv6Prefix { get; init; } = Ipv6Cidr.Parse("fdc4:f303:9324::/64");

    public Ipv6Address GatewayV6 { get; init; } = Ipv6Address.Parse("fdc4:f303:9324::1");

    public Ipv6Address HostV6 { get; init; } = Ipv6Address.Parse("fdc4:f303:9324::254");

    public Ipv6Address FirstGuestV6 { get; init; } = Ipv6Address.Parse("fdc4:f303:9324::3");

    /// <summary>
    /// The gateway's link-local address, from its MAC by modified EUI-64 (RFC 4291 §2.5.1):
    /// router advertisements and NDP for the router come from it.
    /// </summary>
    public Ipv6Address GatewayLinkLocal
    {
        get
        {
            ulong mac = Mac.Value;
            ulong interfaceId = ((mac >> 24) << 40) | (0xFFFEUL << 24) | (mac & 0xFFFFFF);
            interfaceId ^= 0x0200_0000_0000_0000UL;
            return new Ipv6Address(new UInt128(0xFE80_0000_0000_0000UL, interfaceId));
        }
    }

    /// <summary>The MTU to use towards every guest; null means each link's own default.</summary>
    public int? Mtu { get; init; }

    public ReassemblyLimits Fragments { get; init; } = new(64, 256, TimeSpan.FromSeconds(30));

    /// <summary>
    /// Whether the host address stands for the host's loopback (network.hostLoopback;
    /// slirp4netns' --disable-host-loopback turns it off). See <see cref="EgressRule"/>.
    /// </summary>
    public bool HostLoopback { get; init; } = true;

    /// <summary>Search domains for router advertisements (DNSSL, RFC 8106), in DNS wire format.</summary>
    public byte[] DnsSearchList { get; init; } = [];

    /// <summary>Locally administered, and spells "UN" in its second and third octets.</summary>
    public static readonly MacAddress DefaultMac = new(0x02_55_4E_00_00_01);

    public Ipv4Address Network => Subnet.Network;

    public int PrefixLength => Subnet.PrefixLength;

    public Ipv4Address SubnetBroadcast => Subnet.Broadcast;

    public bool InSubnet(Ipv4Address address) => Subnet.Contains(address);

    /// <summary>The IPv6 addresses the stack itself answers for.</summary>
    public bool IsOwnAddress(Ipv6Address address) => address == GatewayV6 || address == HostV6 || address == GatewayLinkLocal;

    /// <summary>The addresses of either family the stack itself answers for.</summary>
    public bool IsOwnAddress(IpAddress address) =>
        address.IsV4 ? address.V4 == Gateway || address.V4 == Host : IsOwnAddress(address.V6);

    /// <summary>
    /// An address a guest on the LAN may hold: a unicast one of the subnet or the prefix, or
    /// IPv6 link-local (the stack's own included; see <see cref="IsOwnAddress(IpAddress)"/>).
    /// </summary>
    public bool IsLanAddress(IpAddress address)
    {
        if (address.IsV4)
        {
            var v4 = address.V4;
            return InSubnet(v4) && v4 != Network && v4 != SubnetBroadcast;
        }
        var v6 = address.V6;
        return !v6.IsMulticast && (v6.IsLinkLocal || Ipv6Prefix.Contains(v6));
    }

    /// <summary>The gateway's address of the family of <paramref name="family"/>.</summary>
    public IpAddress GatewayOf(IpAddress family) => family.IsV4 ? Gateway : GatewayV6;

    /// <summary>The host IP of the family of <paramref name="family"/>.</summary>
    public IpAddress HostOf(IpAddress family) => family.IsV4 ? Host : HostV6;

    /// <summary>The host's loopback address of the family of <paramref name="family"/>: where the host IP leads.</summary>
    public static IpAddress LoopbackOf(IpAddress family) => family.IsV4 ? Ipv4Address.Loopback : Ipv6Address.Loopback;

    public int MtuFor(Link.FrameLink link) => Mtu ?? link.DefaultMtu;
}
