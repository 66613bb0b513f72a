using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Services.Socks;

/// <summary>
/// Where the SOCKS server may connect: the guests' own subnet and prefix (not Usernet's own
/// addresses there, the gateway and the host, which are no guest's), and every subnet routed
/// into a guest. Anything else is refused, so that the server is no relay for the host's
/// networks. Names are looked up in the sources, in order, and never in the host's resolver.
/// </summary>
internal sealed class SocksDestinations(StackOptions options, GuestRouteTable routes)
{
    private readonly List<IGuestNameSource> _names = new();
    private readonly List<IpAddress> _found = new();

    /// <summary>Adds a source of names (the Docker side adds its containers').</summary>
    public void AddNames(IGuestNameSource source) => _names.Add(source);

    public void RemoveNames(IGuestNameSource source) => _names.Remove(source);

    /// <summary>Whether <paramref name="address"/> lies in a guest's network.</summary>
    public bool IsInside(IpAddress address)
    {
        if (routes.TryFind(address, out _))
        {
            return true;
        }
        bool familyOn = address.IsV4 ? options.Ipv4Enabled : options.Ipv6Enabled;
        // A link-local address names no one without the link it is on.
        return familyOn && options.IsLanAddress(address) && !options.IsOwnAddress(address) && (address.IsV4 || !address.V6.IsLinkLocal);
    }

    /// <summary>
    /// The address to connect to for <paramref name="name"/>: the first inside (IPv4 first, as
    /// clients prefer it); <see cref="SocksRefusal.NotAllowed"/> when it has addresses but none
    /// inside, <see cref="SocksRefusal.UnknownName"/> when no source knows it.
    /// </summary>
    public SocksRefusal Resolve(string name, out IpAddress address)
    {
        address = default;
        _found.Clear();
        foreach (var source in _names)
        {
            source.Lookup(name, _found);
        }
        if (_found.Count == 0)
        {
            return SocksRefusal.UnknownName;
        }
        foreach (bool v4 in new[] { true, false })
        {
            foreach (var candidate in _found)
            {
                if (candidate.IsV4 == v4 && IsInside(candidate))
                {
                    address = candidate;
                    return SocksRefusal.None;
                }
            }
        }
        return SocksRefusal.NotAllowed;
    }
}
