using Usernet.Config;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Stack;
using Usernet.Stack.Tcp;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Services.Forwarding;

/// <summary>
/// The ports published from the host into the guest. Adding is all or nothing: a spec whose
/// port (or any port of its range) cannot be bound leaves everything as it was, and says why.
/// Runs on the loop thread.
/// </summary>
internal sealed class PortPublisher
{
    private static readonly IpAddress AnyV4 = Ipv4Address.Any;
    private static readonly IpAddress AnyV6 = Ipv6Address.Any;

    private readonly EventLoop _loop;
    private readonly List<Publish> _publishes = new();

    public PortPublisher(EventLoop loop, NetworkStack stack, TcpTransport tcp, UdpNat udp, PublishOptions options)
    {
        _loop = loop;
        Stack = stack;
        Tcp = tcp;
        Udp = udp;
        Options = options;
    }

    public NetworkStack Stack { get; }

    public TcpTransport Tcp { get; }

    public UdpNat Udp { get; }

    public PublishOptions Options { get; }

    public IReadOnlyList<Publish> Publishes => _publishes;

    /// <summary>The guest a spec without one goes to: the first guest, IPv4 unless the guest has only IPv6.</summary>
    public IpAddress DefaultGuest => Stack.Options.Ipv4Enabled ? Stack.Options.FirstGuest : Stack.Options.FirstGuestV6;

    /// <summary>The publisher of <c>-p auto</c>, when there is one.</summary>
    public AutoPublisher? Auto { get; set; }

    /// <summary>
    /// Publishes every port of <paramref name="spec"/>, or none; throws <see cref="PublishException"/>.
    /// <paramref name="owner"/> names who asked, when not the user (a container). An
    /// <paramref name="automatic"/> spec (<c>-p auto</c>) with no host address binds loopback
    /// unless <see cref="PublishOptions.AutoOnEveryInterface"/>.
    /// </summary>
    public List<Publish> Add(PublishSpec spec, string? owner = null, bool automatic = false)
    {
        var hostAddresses = HostAddresses(spec, automatic);
        var added = new List<Publish>();
        try
        {
            foreach (var single in spec.Expand())
            {
                added.Add(AddOne(single, hostAddresses, owner));
            }
        }
        catch
        {
            foreach (var publish in added)
            {
                publish.Close();
                _publishes.Remove(publish);
            }
            throw;
        }
        return added;
    }

    /// <summary>Where a spec listens, by its address or by <c>portBindingBehavior</c>.</summary>
    private List<(IpAddress Address, bool Optional)> HostAddresses(PublishSpec spec, bool automatic)
    {
        var behavior = Options.BindingBehavior;
        if (spec.HostAddress is { } address)
        {
            if (behavior == PortBindingBehavior.LocalOnlyPortBinding && !address.IsLoopback)
            {
                throw new PublishException(
                    $"{spec}: portBindingBehavior is local-only-port-binding, so ports may be published on loopback addresses only, not on {address}");
            }
            return [(address, false)];
        }
        // Docker binds both families for an address left out; the IPv6 one is best effort.
        bool everyInterface = automatic ? Options.AutoOnEveryInterface : behavior == PortBindingBehavior.DefaultPortBinding;
        return everyInterface
            ? [(AnyV4, false), (AnyV6, true)]
            : [(Ipv4Address.Loopback, false), (Ipv6Address.Loopback, true)];
    }

    private Publish AddOne(PublishSpec single, List<(IpAddress Address, bool Optional)> hostAddresses, string? owner)
    {
        foreach (var (address, _) in hostAddresses)
        {
            if (FindConflict(address, single.HostPortFirst, single.Protocol) is { } existing)
            {
                string by = existing.Owner is { } name ? $"{existing.Spec}, for {name}" : $"{existing.Spec}";
                throw new PublishException($"port {single.HostPortFirst}/{Name(single.Protocol)} is already published by this instance ({by})", addressInUse: true);
            }
        }
        var guest = new IpEndpoint(single.GuestAddress ?? DefaultGuest, (ushort)single.GuestPortFirst);
        var publish = new Publish(single, guest, owner);
        int port = single.HostPortFirst;
        try
        {
            foreach (var (address, optional) in hostAddresses)
            {
                int fd;
                try
                {
                    fd = HostListenSocket.Bind(new IpEndpoint(address, (ushort)port), single.Protocol, out int bound);
                    port = bound;
                }
                catch (PublishException) when (optional)
                {
                    continue;
                }
                IDisposable listener = single.Protocol == PublishProtocol.Tcp
                    ? new TcpPortListener(fd, _loop, this, publish)
                    : new UdpPortListener(fd, _loop, this, publish);
                publish.AddListener(listener, new IpEndpoint(address, (ushort)port));
            }
        }
        catch
        {
            publish.Close();
            throw;
        }
        publish.Spec = single with { HostPortFirst = port, HostPortLast = port };
        _publishes.Add(publish);
        return publish;
    }

    private Publish? FindConflict(IpAddress address, int port, PublishProtocol protocol)
    {
        if (port == 0)
        {
            return null;
        }
        return _publishes.FirstOrDefault(p => p.Spec.Protocol == protocol && p.Spec.HostPortFirst == port
            && p.HostEndpoints.Any(e => e.Address == address || e.Address.IsUnspecified || address.IsUnspecified));
    }

    /// <summary>Removes the publishes matching <paramref name="spec"/>'s host ports and protocol; returns how many.</summary>
    public int Remove(PublishSpec spec)
    {
        var removed = _publishes.Where(p => Matches(spec, p)).ToList();
        foreach (var publish in removed)
        {
            publish.Close();
            _publishes.Remove(publish);
        }
        return removed.Count;
    }

    /// <summary>Removes these publishes (those still here; a user may have removed one already).</summary>
    public void Remove(IEnumerable<Publish> publishes)
    {
        foreach (var publish in publishes)
        {
            if (_publishes.Remove(publish))
            {
                publish.Close();
            }
        }
    }

    private static bool Matches(PublishSpec spec, Publish publish)
    {
        var existing = publish.Spec;
        if (existing.Protocol != spec.Protocol)
        {
            return false;
        }
        if (spec.HostAddress is { } address && !publish.HostEndpoints.Any(e => e.Address == address))
        {
            return false;
        }
        return spec.RandomHostPort
            ? existing.GuestPortFirst >= spec.GuestPortFirst && existing.GuestPortFirst <= spec.GuestPortLast
            : existing.HostPortFirst >= spec.HostPortFirst && existing.HostPortFirst <= spec.HostPortLast;
    }

    /// <summary>
    /// The address the guest sees a client connect from. With the setting on (the default), a
    /// client on the host's loopback appears as the host IP, and any other client as itself
    /// when its family is the guest's; otherwise (or across families) as the host IP. With it
    /// off, every client appears as the gateway. The port is the client's own unless that
    /// connection would collide with one that exists.
    /// </summary>
    public IpEndpoint RemoteFor(IpEndpoint client, IpAddress guestFamily, PublishProtocol protocol, IpEndpoint guest)
    {
        var options = Stack.Options;
        IpAddress address;
        if (!Options.PreserveClientAddress)
        {
            address = options.GatewayOf(guestFamily);
        }
        else if (client.Address.IsLoopback || client.Address.IsV4 != guestFamily.IsV4)
        {
            address = options.HostOf(guestFamily);
        }
        else
        {
            address = client.Address;
        }
        var remote = new IpEndpoint(address, client.Port);
        for (int tries = 0; protocol == PublishProtocol.Tcp && Tcp.Exists(guest, remote) && tries < 64; tries++)
        {
            remote = new IpEndpoint(address, (ushort)Random.Shared.Next(32768, 61000));
        }
        return remote;
    }

    /// <summary>What went through every published port, added up when asked.</summary>
    public PublishCounters Totals()
    {
        var total = new PublishCounters();
        foreach (var publish in _publishes)
        {
            total.Add(publish.Counters);
        }
        return total;
    }

    /// <summary>How many ports are published, what went through them all, and the automatic ones, into the object being written.</summary>
    public void WriteJson(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteNumber("published", _publishes.Count);
        Totals().WriteJson(writer);
        if (Auto is not null)
        {
            writer.WriteStartObject("auto");
            Auto.WriteJson(writer);
            writer.WriteEndObject();
        }
    }

    public void CloseAll()
    {
        foreach (var publish in _publishes)
        {
            publish.Close();
        }
        _publishes.Clear();
    }

    private static string Name(PublishProtocol protocol) => protocol == PublishProtocol.Tcp ? "tcp" : "udp";
}
