using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>
/// A subnet that lies behind a guest (network.guestRoutes, or a Docker network under
/// <c>usernet docker</c>): frames for it go to <see cref="Via"/>'s MAC, as a router's do.
/// IPv4 is held IPv4-mapped, as <see cref="IpAddress"/> is, with its prefix counted in IPv4 bits.
/// </summary>
internal readonly record struct GuestRoute(IpAddress Network, int PrefixLength, IpAddress Via)
{
    public bool IsV4 => Network.IsV4;

    /// <summary>The prefix over the 128 bits an address is held in.</summary>
    private int BitsOfPrefix => IsV4 ? 96 + PrefixLength : PrefixLength;

    public bool Contains(IpAddress address) =>
        address.IsV4 == IsV4 && (address.Value & MaskOf(BitsOfPrefix)) == Network.Value;

    public static GuestRoute V4(Ipv4Cidr network, Ipv4Address via) => new(network.Network, network.PrefixLength, via);

    public static GuestRoute V6(Ipv6Cidr network, Ipv6Address via) => new(network.Network, network.PrefixLength, via);

    private static UInt128 MaskOf(int bits) => bits == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - bits);

    public override string ToString() => $"{Network}/{PrefixLength} via {Via}";
}
