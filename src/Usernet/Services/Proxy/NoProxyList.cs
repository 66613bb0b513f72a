using System.Globalization;
using System.Net;

namespace Usernet.Services.Proxy;

/// <summary>
/// Which destinations bypass the upstream proxy: NO_PROXY's syntax as Go reads it (and so
/// Docker). "*" matches everything; "example.com" matches that name and every name below it;
/// ".example.com" and "*.example.com" only the names below it; an IP address or CIDR matches
/// a destination given as an address in it (or, for a transparent connection, whose address
/// is in it); any entry may end in ":port" to match that port alone.
/// </summary>
internal sealed class NoProxyList
{
    private readonly List<(string Domain, bool SubdomainsOnly, int Port)> _names = new();
    private readonly List<(IPAddress Network, int PrefixLength, int Port)> _networks = new();
    private readonly bool _all;

    public static readonly NoProxyList Empty = new([]);

    public NoProxyList(IEnumerable<string> entries)
    {
        foreach (string raw in entries)
        {
            string entry = raw.Trim().ToLowerInvariant();
            if (entry.Length == 0)
            {
                continue;
            }
            if (entry == "*")
            {
                _all = true;
                continue;
            }
            int port = 0;
            string host = entry;
            // host:port, but not a bare IPv6 address; [v6]:port is bracketed.
            int colon = entry.LastIndexOf(':');
            if (colon > 0 && (entry.IndexOf(':') == colon || entry.StartsWith('[')) && int.TryParse(entry.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is > 0 and < 65536)
            {
                port = p;
                host = entry[..colon];
            }
            host = host.Trim('[', ']');
            int slash = host.IndexOf('/');
            if (slash > 0 && IPAddress.TryParse(host[..slash], out var network) && int.TryParse(host.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int prefix)
                && prefix <= (network.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
            {
                _networks.Add((network, prefix, port));
            }
            else if (IPAddress.TryParse(host, out var address))
            {
                _networks.Add((address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128, port));
            }
            else if (host.StartsWith("*.", StringComparison.Ordinal))
            {
                _names.Add((host[1..].TrimEnd('.'), true, port));
            }
            else if (host.StartsWith('.'))
            {
                _names.Add((host.TrimEnd('.'), true, port));
            }
            else
            {
                _names.Add(("." + host.TrimEnd('.'), false, port));
            }
        }
    }

    public bool IsEmpty => !_all && _names.Count == 0 && _networks.Count == 0;

    /// <summary>Whether a connection to <paramref name="host"/> (a name or an address) on <paramref name="port"/> goes direct.</summary>
    public bool Matches(string host, int port, IPAddress? knownAddress = null)
    {
        if (_all)
        {
            return true;
        }
        string name = host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        var address = IPAddress.TryParse(name, out var literal) ? literal : knownAddress;
        if (address is not null)
        {
            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }
            foreach (var (network, prefix, entryPort) in _networks)
            {
                if ((entryPort == 0 || entryPort == port) && InNetwork(address, network, prefix))
                {
                    return true;
                }
            }
        }
        if (literal is not null)
        {
            return false;
        }
        foreach (var (domain, subdomainsOnly, entryPort) in _names)
        {
            if (entryPort != 0 && entryPort != port)
            {
                continue;
            }
            string dotted = "." + name;
            if (dotted.EndsWith(domain, StringComparison.Ordinal) && (!subdomainsOnly || dotted != domain))
            {
                return true;
            }
        }
        return false;
    }

    public static bool InNetwork(IPAddress address, IPAddress network, int prefixLength)
    {
        byte[] a = address.GetAddressBytes();
        byte[] n = network.GetAddressBytes();
        if (a.Length != n.Length)
        {
            return false;
        }
        int full = prefixLength / 8;
        if (!a.AsSpan(0, full).SequenceEqual(n.AsSpan(0, full)))
        {
            return false;
        }
        int bits = prefixLength % 8;
        if (bits == 0)
        {
            return true;
        }
        int mask = 0xFF << (8 - bits) & 0xFF;
        return (a[full] & mask) == (n[full] & mask);
    }
}
