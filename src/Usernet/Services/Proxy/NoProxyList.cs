using System.Diagnostics.CodeAnalysis;
using System.Net;
using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Services.Proxy;

/// <summary>
/// Which destinations bypass the upstream proxy: NO_PROXY's syntax as Go reads it (and so
/// Docker). "*" matches everything; "example.com" matches that name and every name below it;
/// ".example.com" and "*.example.com" only the names below it; an IP address or CIDR matches
/// a destination given as an address in it (or, for a transparent connection, whose address
/// is in it); any entry but a network may end in ":port" to match that port alone. Entries
/// are read by <see cref="HostPort"/>; one that cannot be read is skipped.
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
            // A network first, as Go does; it takes no port.
            if (TryParseNetwork(entry, out var network, out int prefix))
            {
                _networks.Add((network, prefix, 0));
                continue;
            }
            // Then host[:port] or [v6][:port]; an entry that is neither is skipped, as Go skips it.
            if (!HostPort.TryParse(entry, HostPortOptions.PortOptional | HostPortOptions.BareIpv6, out var hostPort, out _))
            {
                continue;
            }
            int port = hostPort.Port;
            if (hostPort.Address is { } address)
            {
                _networks.Add((address.ToIPAddress(), address.IsV4 ? 32 : 128, port));
                continue;
            }
            string host = hostPort.Host;
            if (host.StartsWith("*.", StringComparison.Ordinal))
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

    /// <summary>ADDRESS/PREFIX of either family; host bits may be set, as Go's ParseCIDR allows.</summary>
    private static bool TryParseNetwork(string entry, [NotNullWhen(true)] out IPAddress? network, out int prefix)
    {
        network = Ipv4Cidr.TryParse(entry, out var v4, out prefix) ? ((IpAddress)v4).ToIPAddress()
            : Ipv6Cidr.TryParse(entry, out var v6, out prefix) ? ((IpAddress)v6).ToIPAddress()
            : null;
        return network is not null;
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
