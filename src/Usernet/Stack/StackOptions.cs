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

    /// <summary>The MTU to use towards every guest; null means each link's own default.</summary>
    public int? Mtu { get; init; }

    public ReassemblyLimits Fragments { get; init; } = new(64, 256, TimeSpan.FromSeconds(30));

    /// <summary>Locally administered, and spells "UN" in its second and third octets.</summary>
    public static readonly MacAddress DefaultMac = new(0x02_55_4E_00_00_01);

    public Ipv4Address Network => Subnet.Network;

    public int PrefixLength => Subnet.PrefixLength;

    public Ipv4Address SubnetBroadcast => Subnet.Broadcast;

    public bool InSubnet(Ipv4Address address) => Subnet.Contains(address);

    public int MtuFor(Link.FrameLink link) => Mtu ?? link.DefaultMtu;
}
