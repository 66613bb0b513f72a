using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>
/// The subnets that lie behind guests: from network.guestRoutes at start, and added and
/// removed at run time by whoever learns of one (the Docker side, as networks come and go).
/// The most specific route wins. Runs on the loop thread; the table is small (a few routes),
/// and it is read per packet only for a destination that is no neighbour.
/// </summary>
internal sealed class GuestRouteTable
{
    /// <summary>Enough for every Docker network a host would have, and a bound on what a caller can add.</summary>
    public const int MaxRoutes = 1024;

    private readonly List<GuestRoute> _routes = new();

    public IReadOnlyList<GuestRoute> Routes => _routes;

    /// <summary>Adds a route, or moves an existing one for the same subnet to <paramref name="route"/>'s guest; false when the table is full.</summary>
    public bool Add(GuestRoute route)
    {
        int existing = _routes.FindIndex(r => r.Network == route.Network && r.PrefixLength == route.PrefixLength);
        if (existing >= 0)
        {
            _routes[existing] = route;
            return true;
        }
        if (_routes.Count >= MaxRoutes)
        {
            return false;
        }
        _routes.Add(route);
        return true;
    }

    /// <summary>Removes the route for this subnet; false when there is none.</summary>
    public bool Remove(IpAddress network, int prefixLength) =>
        _routes.RemoveAll(r => r.Network == network && r.PrefixLength == prefixLength) > 0;

    /// <summary>The guest behind which <paramref name="destination"/> lies, by the longest matching prefix.</summary>
    public bool TryFind(IpAddress destination, out IpAddress via)
    {
        via = default;
        int best = -1;
        foreach (var route in _routes)
        {
            if (route.PrefixLength > best && route.Contains(destination))
            {
                best = route.PrefixLength;
                via = route.Via;
            }
        }
        return best >= 0;
    }
}
