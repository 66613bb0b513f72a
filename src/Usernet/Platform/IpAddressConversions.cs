using System.Net;
using Usernet.Wire;

namespace Usernet.Platform;

/// <summary>
/// Between Wire's addresses and System.Net's, for the code at the edge that hands them to
/// .NET sockets, name resolution or interface lists: Wire itself depends on nothing.
/// </summary>
internal static class IpAddressConversions
{
    public static IPAddress ToIPAddress(this IpAddress address)
    {
        Span<byte> bytes = stackalloc byte[Ipv6Address.Length];
        if (address.IsV4)
        {
            address.V4.Write(bytes);
            return new IPAddress(bytes[..Ipv4Address.Length]);
        }
        address.V6.Write(bytes);
        return new IPAddress(bytes);
    }

    /// <summary>An IPv4-mapped IPv6 address becomes IPv4, as <see cref="IpAddress"/> holds them.</summary>
    public static IpAddress ToIpAddress(this IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[Ipv6Address.Length];
        address.TryWriteBytes(bytes, out int written);
        return written == Ipv4Address.Length ? Ipv4Address.Read(bytes) : Ipv6Address.Read(bytes);
    }
}
