using System.Globalization;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Usernet.Services.Dns;

/// <summary>
/// Whether the host has a path for each address family: a default route, or any global
/// address (a VPN that routes only its own networks has no default route). dnsInhibition
/// <c>auto</c> withholds the records of a family the host cannot reach.
/// </summary>
internal static class HostFamilyProbe
{
    private const int RouteUp = 0x0001;
    private const int RouteReject = 0x0200;

    public static (bool Ipv4, bool Ipv6) Probe()
    {
        var (v4Address, v6Address) = GlobalAddresses();
        return (v4Address || HasDefaultRouteV4(ReadOrEmpty("/proc/net/route")),
            v6Address || HasDefaultRouteV6(ReadOrEmpty("/proc/net/ipv6_route")));
    }

    /// <summary>Whether the host routes IPv6 beyond itself: what networking mode <c>auto</c> follows.</summary>
    public static bool HasIpv6DefaultRoute() => HasDefaultRouteV6(ReadOrEmpty("/proc/net/ipv6_route"));

    /// <summary>A line of /proc/net/route with destination and mask 0, up.</summary>
    public static bool HasDefaultRouteV4(string table)
    {
        foreach (string line in table.Split('\n').Skip(1))
        {
            string[] fields = line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 8 && fields[1] == "00000000" && fields[7] == "00000000"
                && int.TryParse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int flags)
                && (flags & RouteUp) != 0 && (flags & RouteReject) == 0)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A line of /proc/net/ipv6_route for ::/0, up, not a reject route, not on lo.</summary>
    public static bool HasDefaultRouteV6(string table)
    {
        foreach (string line in table.Split('\n'))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 10 && fields[0] == new string('0', 32) && fields[1] == "00" && fields[9] != "lo"
                && int.TryParse(fields[8], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int flags)
                && (flags & RouteUp) != 0 && (flags & RouteReject) == 0)
            {
                return true;
            }
        }
        return false;
    }

    private static (bool Ipv4, bool Ipv6) GlobalAddresses()
    {
        bool v4 = false;
        bool v6 = false;
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus == OperationalStatus.Down)
                {
                    continue;
                }
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    var address = unicast.Address;
                    if (System.Net.IPAddress.IsLoopback(address))
                    {
                        continue;
                    }
                    if (address.AddressFamily == AddressFamily.InterNetwork)
                    {
                        // 169.254/16 is link-local (RFC 3927): no path beyond the link.
                        v4 |= !(address.GetAddressBytes() is [169, 254, ..]);
                    }
                    else if (address.AddressFamily == AddressFamily.InterNetworkV6)
                    {
                        v6 |= !address.IsIPv6LinkLocal;
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
        }
        return (v4, v6);
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
