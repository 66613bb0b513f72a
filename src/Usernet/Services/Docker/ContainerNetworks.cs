using Usernet.Platform;
using Usernet.Services.Socks;
using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Services.Docker;

/// <summary>
/// What makes the guest daemon's containers reachable from the host: a route into the guest for
/// each subnet of its bridge networks (in <see cref="NetworkStack.Routes"/>, so that the SOCKS
/// server and <c>usernet ping</c> reach them), and the names of its running containers
/// (<see cref="IGuestNameSource"/>). Both follow what the daemon lists, as a whole, so that an
/// event that comes late or twice changes nothing. A refresh is asked for by the event stream,
/// at each subscription, and by the API proxy before it answers a request that changes them;
/// requests that come while one runs share the next. The tables change on the loop thread only,
/// where they are read.
/// </summary>
internal sealed class ContainerNetworks : IGuestNameSource
{
    /// <summary>Container events after which a container's addresses or names may have changed.</summary>
    private static readonly HashSet<string> ContainerActions = ["start", "restart", "die", "destroy", "rename"];

    /// <summary>Network events: a network came or went, or a container joined or left one.</summary>
    private static readonly HashSet<string> NetworkActions = ["create", "destroy", "remove", "connect", "disconnect"];

    private readonly EventLoop _loop;
    private readonly GuestRouteTable _routes;
    private readonly StackOptions _options;
    private readonly DockerClient _daemon;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Refreshes asked for, and of those, how many the last finished refresh began after.</summary>
    private long _requested;
    private long _served;

    /// <summary>Skipped subnets already logged (under <see cref="_gate"/>): a refresh says each once.</summary>
    private readonly HashSet<string> _reported = new();

    /// <summary>The routes this class added (loop thread): only these are ever removed.</summary>
    private readonly Dictionary<GuestRoute, string> _owned = new();

    /// <summary>Lower-case name to addresses (loop thread).</summary>
    private Dictionary<string, IpAddress[]> _names = new();

    public ContainerNetworks(EventLoop loop, NetworkStack stack, DockerClient daemon)
    {
        _loop = loop;
        _routes = stack.Routes;
        _options = stack.Options;
        _daemon = daemon;
    }

    /// <summary>Whether an event of the daemon may change a route or a name.</summary>
    public static bool Concerns(DockerEvent e) =>
        (e.Type == "container" && ContainerActions.Contains(e.Action)) || (e.Type == "network" && NetworkActions.Contains(e.Action));

    /// <summary>
    /// Reads the daemon's networks and running containers and follows them; done when a refresh
    /// that began after this call has finished. Never throws: a daemon that does not answer
    /// leaves the tables as they are (the event stream brings the next refresh).
    /// </summary>
    public async Task RefreshAsync()
    {
        long mine = Interlocked.Increment(ref _requested);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _served) >= mine)
            {
                return;
            }
            long covers = Volatile.Read(ref _requested);
            await RefreshOnceAsync().ConfigureAwait(false);
            Volatile.Write(ref _served, covers);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Removes every route and name (the daemon's event stream ended: it stopped).</summary>
    public async Task ClearAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await _loop.InvokeAsync(_ => Apply([], new Dictionary<string, IpAddress[]>())).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The addresses of a running container by that name (loop thread).</summary>
    public void Lookup(string name, List<IpAddress> addresses)
    {
        if (_names.TryGetValue(name, out var found))
        {
            addresses.AddRange(found);
        }
    }

    private async Task RefreshOnceAsync()
    {
        List<DockerNetwork> networks;
        List<ContainerAddresses> containers;
        try
        {
            networks = await _daemon.NetworksAsync(CancellationToken.None).ConfigureAwait(false);
            containers = await _daemon.ContainerAddressesAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (DockerDaemonException e)
        {
            string message = $"docker: cannot read the daemon's networks and containers: {e.Message}";
            if (e.Unreachable)
            {
                Log.Debug(message);
            }
            else
            {
                Log.Warn(message);
            }
            return;
        }
        var skipped = new List<(string Key, string Reason)>();
        var routes = RoutesFor(networks, _options, skipped);
        foreach (var (key, reason) in skipped)
        {
            if (_reported.Add(key))
            {
                Log.Warn($"docker: {reason}");
            }
        }
        await _loop.InvokeAsync(_ => Apply(routes, NamesOf(containers))).ConfigureAwait(false);
    }

    /// <summary>Makes the routes this class owns <paramref name="wanted"/>, and the names <paramref name="names"/> (loop thread).</summary>
    private bool Apply(List<(GuestRoute Route, string Network)> wanted, Dictionary<string, IpAddress[]> names)
    {
        var keep = wanted.Select(w => w.Route).ToHashSet();
        foreach (var (route, network) in _owned.Where(o => !keep.Contains(o.Key)).ToList())
        {
            _routes.Remove(route.Network, route.PrefixLength);
            _owned.Remove(route);
            Log.Info($"docker: network {network}: route {route} removed");
        }
        foreach (var (route, network) in wanted)
        {
            if (_owned.ContainsKey(route))
            {
                continue;
            }
            if (!_routes.Add(route))
            {
                Log.WarnLimited("docker-routes-full", $"docker: network {network}: no route for {route}: the table holds {GuestRouteTable.MaxRoutes} routes at most");
                continue;
            }
            _owned[route] = network;
            Log.Info($"docker: network {network}: route {route} added");
        }
        _names = names;
        return true;
    }

    /// <summary>
    /// The route for each subnet of the daemon's bridge networks, through the guest's address of
    /// its family. Left out, with the reason in <paramref name="skipped"/> where it is worth
    /// saying: other drivers' networks (macvlan and ipvlan hang off a link of their own, not
    /// behind the guest's routing), internal networks (Docker keeps them from every other
    /// network, and so does Usernet), a family the stack does not carry, a subnet that overlaps
    /// Usernet's own (the stack would send the guests' own addresses there), and a subnet that
    /// network.guestRoutes names already (the settings say where it is).
    /// </summary>
    internal static List<(GuestRoute Route, string Network)> RoutesFor(IEnumerable<DockerNetwork> networks, StackOptions options, List<(string Key, string Reason)> skipped)
    {
        var routes = new List<(GuestRoute, string)>();
        foreach (var network in networks)
        {
            if (network.Driver != "bridge" || network.Internal)
            {
                continue;
            }
            foreach (string subnet in network.Subnets)
            {
                string key = $"{network.Id}/{subnet}";
                GuestRoute route;
                if (Ipv4Cidr.TryParse(subnet, out Ipv4Cidr v4))
                {
                    if (!options.Ipv4Enabled)
                    {
                        continue;
                    }
                    if (v4.Overlaps(options.Subnet))
                    {
                        skipped.Add((key, $"network {network.Name}: {subnet} overlaps Usernet's subnet {options.Subnet}: not routed from the host (give the network another subnet, or Usernet another --subnet)"));
                        continue;
                    }
                    route = GuestRoute.V4(v4, options.FirstGuest);
                }
                else if (Ipv6Cidr.TryParse(subnet, out Ipv6Cidr v6))
                {
                    if (!options.Ipv6Enabled)
                    {
                        continue;
                    }
                    if (v6.Overlaps(options.Ipv6Prefix) || v6.Network.IsLinkLocal)
                    {
                        skipped.Add((key, $"network {network.Name}: {subnet} overlaps Usernet's prefix {options.Ipv6Prefix} or is link-local: not routed from the host"));
                        continue;
                    }
                    route = GuestRoute.V6(v6, options.FirstGuestV6);
                }
                else
                {
                    skipped.Add((key, $"network {network.Name}: subnet '{subnet}' does not parse: not routed from the host"));
                    continue;
                }
                if (!options.GuestRoutes.Any(r => r.Network == route.Network && r.PrefixLength == route.PrefixLength))
                {
                    routes.Add((route, network.Name));
                }
            }
        }
        return routes;
    }

    /// <summary>Each running container's names, lower case (as SOCKS asks), to its addresses; a name several share has all of theirs.</summary>
    internal static Dictionary<string, IpAddress[]> NamesOf(IEnumerable<ContainerAddresses> containers)
    {
        var names = new Dictionary<string, List<IpAddress>>();
        foreach (var container in containers)
        {
            foreach (string name in container.Names.Select(n => n.ToLowerInvariant()).Distinct())
            {
                if (!names.TryGetValue(name, out var addresses))
                {
                    names[name] = addresses = new List<IpAddress>();
                }
                addresses.AddRange(container.Addresses.Where(a => !addresses.Contains(a)));
            }
        }
        return names.ToDictionary(n => n.Key, n => n.Value.ToArray());
    }
}
