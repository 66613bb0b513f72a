namespace Usernet.Platform;

/// <summary>What the host itself can reach, from the kernel's routing tables in /proc/net.</summary>
internal static class HostRoutes
{
    /// <summary>Whether the host has an IPv4 default route (/proc/net/route: destination and mask zero).</summary>
    public static bool HasIpv4DefaultRoute() =>
        ReadLines("/proc/net/route").Skip(1).Any(line =>
        {
            string[] fields = line.Split('\t', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 7 && fields[1] == "00000000" && fields[7] == "00000000";
        });

    /// <summary>Whether the host has an IPv6 default route that is not unreachable (/proc/net/ipv6_route).</summary>
    public static bool HasIpv6DefaultRoute() =>
        ReadLines("/proc/net/ipv6_route").Any(line =>
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // Destination ::/0, on an interface other than lo (the kernel's unreachable default sits on lo).
            return fields.Length >= 10 && fields[0] == new string('0', 32) && fields[1] == "00" && fields[9] != "lo";
        });

    private static IEnumerable<string> ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
