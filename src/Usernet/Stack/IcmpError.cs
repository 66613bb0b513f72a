using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>
/// An ICMP (RFC 792) or ICMPv6 (RFC 4443) error to send a guest: type, code, and the 32-bit
/// word after them, all in the guest's family. The stack writes the word only where it means
/// something: the next-hop MTU of "fragmentation needed" (RFC 1191 §4) and the MTU of
/// "packet too big" (RFC 4443 §3.2). Errors the host relays keep the host's type and code.
/// </summary>
internal readonly record struct IcmpError(byte Type, byte Code, uint Info = 0)
{
    public static IcmpError NetUnreachable(IpAddress family) => family.IsV4
        ? new(IcmpV4Type.DestinationUnreachable, IcmpV4Code.NetUnreachable)
        : new(Icmpv6Type.DestinationUnreachable, Icmpv6Code.NoRoute);

    public static IcmpError HostUnreachable(IpAddress family) => family.IsV4
        ? new(IcmpV4Type.DestinationUnreachable, IcmpV4Code.HostUnreachable)
        : new(Icmpv6Type.DestinationUnreachable, Icmpv6Code.AddressUnreachable);

    public static IcmpError PortUnreachable(IpAddress family) => family.IsV4
        ? new(IcmpV4Type.DestinationUnreachable, IcmpV4Code.PortUnreachable)
        : new(Icmpv6Type.DestinationUnreachable, Icmpv6Code.PortUnreachable);

    /// <summary>Communication administratively prohibited: a filter refused it (RFC 1812 §5.2.7.1).</summary>
    public static IcmpError Prohibited(IpAddress family) => family.IsV4
        ? new(IcmpV4Type.DestinationUnreachable, IcmpV4Code.AdministrativelyProhibited)
        : new(Icmpv6Type.DestinationUnreachable, Icmpv6Code.AdministrativelyProhibited);

    /// <summary>Too big for the path with DF set (IPv4) or at all (IPv6, which routers never fragment).</summary>
    public static IcmpError TooBig(IpAddress family, int mtu) => family.IsV4
        ? new(IcmpV4Type.DestinationUnreachable, IcmpV4Code.FragmentationNeeded, (uint)mtu)
        : new(Icmpv6Type.PacketTooBig, 0, (uint)mtu);
}
