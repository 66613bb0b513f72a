using System.Text.Json;
using Usernet.Control;
using Usernet.Link;
using Usernet.Nat;
using Usernet.Platform;
using Usernet.Services.Dhcp;
using Usernet.Services.Dhcp6;
using Usernet.Services.Dns;
using Usernet.Services.Forwarding;
using Usernet.Services.Proxy;
using Usernet.Services.Proxy.Pac;
using Usernet.Services.Proxy.Upstream;
using Usernet.Stack;
using Usernet.Stack.Icmp;
using Usernet.Stack.Tcp;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Cli;

/// <summary>
/// One running Usernet: the loop, the switch with its guest links, the stack and its
/// services, and the control API. `usernet run` and `usernet serve` both build one; they
/// differ only in where the links come from.
/// </summary>
internal sealed class Instance : IAsyncDisposable
{
    private readonly InstanceOptions _options;
    private readonly List<IDisposable> _listeners = new();
    private ControlServer? _control;

    public Instance(InstanceOptions options)
    {
        _options = options;
        Loop = new EventLoop();
        Switch = new VirtualSwitch(Loop);
        Stack = new NetworkStack(options.Stack, Switch);
        Stack.UseTimers(Loop.Timers);
        if (options.Stack.Ipv6Enabled)
        {
            Stack.StartRouterAdvertisements(Loop.Timers);
        }
        Switch.AttachStack(Stack);
        var stack = options.Stack;
        var pool = new DhcpLeasePool(
            stack.FirstGuest, stack.SubnetBroadcast.Offset(-1),
            [stack.Gateway, stack.Host], options.MaxLeases);
        Dhcp = new DhcpServer(options.Dhcp, pool, Stack);
        if (options.Stack.Ipv4Enabled)
        {
            Stack.AddUdpService(DhcpMessage.ServerPort, Dhcp);
        }
        Dhcp6 = new Dhcpv6Server(options.Dhcp6, Stack);
        if (options.Stack.Ipv6Enabled)
        {
            Stack.AddUdpService(Dhcpv6Message.ServerPort, Dhcp6);
        }
        Stack.DnsSearchList = DnsSearchList.Encode(options.Dhcp.SearchDomains);
        Connector = new HostTcpConnector(Loop, options.Tcp, options.Stack.Gateway, options.Stack.GatewayV6, options.Stack.GatewayLinkLocal);
        Tcp = new TcpTransport(Stack, Loop.Timers, Connector, options.Tcp);
        Stack.Tcp = Tcp;
        var datagrams = new HostDatagramFactory(Loop);
        PingMode = datagrams.PingMode;
        Udp = new UdpNat(Stack, Loop.Timers, datagrams, options.Udp);
        Stack.UdpNat = Udp;
        Ping = new IcmpEchoNat(Stack, Loop.Timers, datagrams, options.Udp.IdleTimeout);
        Stack.IcmpNat = Ping;
        // A gone guest's datagram sockets can only collect replies for nobody. Its TCP
        // connections are left to finish: the host peer may still be taking the last bytes
        // the guest sent before it left, and a dead one is found by keepalive.
        Stack.GuestGone += address =>
        {
            Udp.CloseGuest(address);
            Ping.CloseGuest(address);
        };
        Stack.IcmpNat6 = Ping;
        Dns = new DnsServer(options.Dns, Loop, SendUdp);
        Stack.AddUdpService(DnsServer.Port, Dns);
        Connector.GatewayServices.Add(DnsServer.Port, (socket, connection) => Dns.Tcp.Accept(socket, connection.Guest));
        Dns.Start();
        ResolvedNames = new ResolvedNames();
        // Only transparent proxying asks which name an address came from: with no transparent
        // ports (the default) the answers are not parsed a second time.
        Dns.Resolver.ResponseObserver = response =>
        {
            if (!Proxy!.Policy.TransparentPorts.IsEmpty)
            {
                ResolvedNames.Observe(response);
            }
        };
        var proxyResolver = new GatewayDnsClient(Loop, Dns.Resolver, stack.Ipv4Enabled, stack.Ipv6Enabled);
        Proxy = new ProxyService(options.Settings, options.SettingsPaths, options.SettingsFlags, new PacHost(proxyResolver), ResolvedNames);
        ProxyServer = new HttpProxyServer(() => Proxy.Policy, new UpstreamConnector(proxyResolver, MapDirect, options.Tcp.ConnectTimeout), ResolvedNames, Proxy.Counters);
        Connector.GatewayServices.Add(HttpProxyServer.Port, ProxyServer.Accept);
        Connector.Divert = (flow, destination) =>
        {
            var original = new System.Net.IPEndPoint(flow.Remote.Address.ToIPAddress(), flow.Remote.Port);
            return Proxy.WantsTransparent(flow.Remote, destination) ? (socket, connection) => ProxyServer.AcceptTransparent(socket, connection, original) : null;
        };
        Proxy.StartWatching();
        Publisher = new PortPublisher(Loop, Stack, Tcp, Udp, options.Publish);
        // ACKs gathered in a batch go out before the links flush what the batch produced.
        Loop.AddAfterDispatch(Tcp.FlushAcks);
        Loop.AddAfterDispatch(_ => Switch.Flush());
        if (options.PcapPath is not null)
        {
            Switch.Capture = new PcapWriter(options.PcapPath);
        }
    }

    public string Name => _options.Name;

    public EventLoop Loop { get; }

    public VirtualSwitch Switch { get; }

    public NetworkStack Stack { get; }

    public DhcpServer Dhcp { get; }

    public Dhcpv6Server Dhcp6 { get; }

    public TcpTransport Tcp { get; }

    public UdpNat Udp { get; }

    public IcmpEchoNat Ping { get; }

    /// <summary>How guests' pings leave the host: "ping sockets", "raw socket" or "unavailable".</summary>
    public string PingMode { get; }
    public DnsServer Dns { get; }

    public PortPublisher Publisher { get; }

    /// <summary>The upstream proxy policy and its reload.</summary>
    public ProxyService Proxy { get; }

    /// <summary>The HTTP proxy on the gateway's port 3128, and the transparent proxy.</summary>
    public HttpProxyServer ProxyServer { get; }

    /// <summary>Which name guests resolved each address from.</summary>
    public ResolvedNames ResolvedNames { get; }

    /// <summary>Opens host sockets, and holds the gateway's own TCP services.</summary>
    public HostTcpConnector Connector { get; }

    public string? ControlSocket => _control?.SocketPath;

    /// <summary>Adds a guest link. Call on the loop thread, or before <see cref="Run"/>.</summary>
    public void Attach(FrameLink link) => Switch.Attach(link);

    public void AddListener(IDisposable listener) => _listeners.Add(listener);

    /// <summary>
    /// Where the proxy's direct connections go: Usernet's host address is the host's loopback
    /// (when network.hostLoopback allows, as for the guest's own connections), and the gateway
    /// and loopback are refused otherwise (null).
    /// </summary>
    private System.Net.IPAddress? MapDirect(System.Net.IPAddress address)
    {
        var stack = _options.Stack;
        var ours = IpAddress.FromIPAddress(address);
        bool loopbackAllowed = _options.Tcp.HostLoopback;
        if (ours == stack.Host || ours == stack.HostV6)
        {
            return loopbackAllowed ? (ours.IsV4 ? System.Net.IPAddress.Loopback : System.Net.IPAddress.IPv6Loopback) : null;
        }
        if (ours == stack.Gateway || ours == stack.GatewayV6)
        {
            return null;
        }
        return ours.IsLoopback && !loopbackAllowed ? null : address;
    }

    /// <summary>Sends a datagram from a gateway service to a guest, in the family of its addresses.</summary>
    private void SendUdp(IpEndpoint source, IpEndpoint destination, ReadOnlySpan<byte> payload)
    {
        if (source.Address.IsV4 == destination.Address.IsV4)
        {
            Stack.SendUdp(source, destination, payload);
        }
    }

    /// <summary>
    /// Publishes the ports of the settings and the command line, printing where each listens.
    /// Throws <see cref="PublishException"/> (nothing stays published) when one cannot be.
    /// </summary>
    public void PublishAtStart()
    {
        try
        {
            foreach (string text in _options.PublishSpecs)
            {
                foreach (var publish in Publisher.Add(PublishSpec.Parse(text)))
                {
                    Console.Error.WriteLine($"usernet: published {string.Join(", ", publish.HostEndpoints)} -> {publish.Guest} ({publish.Spec})");
                }
            }
        }
        catch
        {
            Publisher.CloseAll();
            throw;
        }
    }

    /// <summary>Opens the control socket and its routes.</summary>
    public void StartControl()
    {
        InstanceDirectory.EnsureExists();
        _control = new ControlServer(InstanceDirectory.SocketPath(Name));
        _control.Map("GET", "/stats", async _ => ControlResponse.Json(await Loop.InvokeAsync(_ => StatsJson())));
        _control.Map("GET", "/leases", async _ => ControlResponse.Json(await Loop.InvokeAsync(_ => LeasesJson())));
        _control.Map("GET", "/connections", async _ => ControlResponse.Json(await Loop.InvokeAsync(_ => JsonText.BuildArray(w =>
        {
            foreach (var connection in Tcp.Connections)
            {
                w.WriteStartObject();
                w.WriteString("guest", connection.Key.Guest.ToString());
                w.WriteString("remote", connection.Key.Remote.ToString());
                w.WriteString("state", connection.Describe());
                w.WriteEndObject();
            }
        }))));
        _control.Map("GET", "/info", _ => ControlResponse.Json(JsonText.Build(w =>
        {
            w.WriteString("instance", Name);
            w.WriteNumber("pid", Environment.ProcessId);
            w.WriteString("gateway", _options.Stack.Gateway.ToString());
            w.WriteString("host", _options.Stack.Host.ToString());
        })));
        DnsRecordRoutes.Map(_control, Loop, Dns.Resolver.Local);
        PortRoutes.Map(_control, Loop, Publisher);
        ProxyRoutes.Map(_control, Proxy);
        _control.Start();
    }

    /// <summary>Runs the loop on this thread until <see cref="Stop"/>.</summary>
    public void Run() => Loop.Run();

    public void Stop() => Loop.Stop();

    /// <summary>
    /// After the guest's command has exited: keeps the loop turning (within <paramref name="limit"/>)
    /// while the guest's kernel still sends what its sockets held, as an exiting program's
    /// sockets do, and until the data the guest saw acknowledged has reached the host sockets. So
    /// the last bytes of a transfer are not lost when the command exits right after writing them.
    /// </summary>
    public void DeliverPending(TimeSpan limit)
    {
        var deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        while ((Tcp.Backlog.InUse > 0 || (Switch.Links.Count > 0 && Tcp.GuestsStillSending)) && Environment.TickCount64 < deadline)
        {
            Loop.RunOnce(50);
        }
        if (Tcp.Backlog.InUse > 0)
        {
            Log.Warn($"{Tcp.Backlog.InUse} bytes from the guest could not be delivered within {limit.TotalSeconds:0} s");
        }
    }

    private string StatsJson() => JsonText.Build(w =>
    {
        w.WriteString("instance", Name);
        w.WriteString("mode", _options.Mode.ToString());
        w.WriteStartObject("stack");
        var counters = Stack.Counters;
        w.WriteNumber("framesIn", counters.FramesIn);
        w.WriteNumber("framesOut", counters.FramesOut);
        w.WriteNumber("arpReplies", counters.ArpRepliesSent);
        w.WriteNumber("echoReplies", counters.EchoRepliesSent);
        w.WriteNumber("icmpErrors", counters.IcmpErrorsSent);
        w.WriteNumber("fragmentsToGuest", counters.FragmentsSentToGuest);
        w.WriteNumber("dropped", counters.TotalDropped);
        w.WriteStartObject("drops");
        foreach (var (reason, count) in counters.NonZeroDrops())
        {
            w.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(reason), count);
        }
        w.WriteEndObject();
        w.WriteNumber("neighbours", Stack.Neighbours.Count);
        w.WriteNumber("pendingReassemblies", Stack.Reassembler.PendingCount);
        w.WriteNumber("pendingReassemblies6", Stack.PendingReassemblies6);
        w.WriteNumber("awaitingResolution", Stack.PendingResolution.DestinationCount);
        w.WriteNumber("awaitingResolutionDropped", Stack.PendingResolution.Dropped);
        w.WriteEndObject();
        w.WriteStartObject("switch");
        w.WriteNumber("truncated", Switch.Counters.Truncated);
        w.WriteNumber("badChecksumOffload", Switch.Counters.BadChecksumOffload);
        w.WriteNumber("betweenGuests", Switch.Counters.BetweenGuests);
        w.WriteNumber("flooded", Switch.Counters.Flooded);
        w.WriteNumber("linksOpened", Switch.Counters.LinksOpened);
        w.WriteNumber("linksClosed", Switch.Counters.LinksClosed);
        w.WriteEndObject();
        w.WriteStartArray("links");
        foreach (var link in Switch.Links)
        {
            w.WriteStartObject();
            w.WriteString("link", link.Description);
            w.WriteNumber("framesIn", link.Counters.FramesIn);
            w.WriteNumber("bytesIn", link.Counters.BytesIn);
            w.WriteNumber("framesOut", link.Counters.FramesOut);
            w.WriteNumber("bytesOut", link.Counters.BytesOut);
            w.WriteNumber("droppedOut", link.Counters.DroppedOut);
            w.WriteNumber("errorsIn", link.Counters.ErrorsIn);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("dhcp");
        var dhcp = Dhcp.Counters;
        w.WriteNumber("requests", dhcp.Requests);
        w.WriteNumber("offers", dhcp.Offers);
        w.WriteNumber("acks", dhcp.Acks);
        w.WriteNumber("naks", dhcp.Naks);
        w.WriteNumber("ignored", dhcp.Ignored);
        w.WriteNumber("malformed", dhcp.Malformed);
        w.WriteNumber("leases", Dhcp.Pool.Count);
        w.WriteNumber("poolCapacity", Dhcp.Pool.Capacity);
        w.WriteNumber("poolExhausted", Dhcp.Pool.Counters.Exhausted);
        w.WriteNumber("offersEvicted", Dhcp.Pool.Counters.OffersEvicted);
        w.WriteEndObject();
        w.WriteStartObject("dhcp6");
        w.WriteNumber("requests", Dhcp6.Counters.Requests);
        w.WriteNumber("replies", Dhcp6.Counters.Replies);
        w.WriteNumber("leases", Dhcp6.LeaseCount);
        w.WriteNumber("malformed", Dhcp6.Counters.Malformed);
        w.WriteNumber("exhausted", Dhcp6.Counters.Exhausted);
        w.WriteEndObject();
        w.WriteStartObject("tcp");
        var tcp = Tcp.Counters;
        w.WriteNumber("connections", Tcp.Count);
        w.WriteNumber("opened", tcp.Opened);
        w.WriteNumber("closed", tcp.Closed);
        w.WriteNumber("refused", tcp.Refused);
        w.WriteNumber("unreachable", tcp.Unreachable);
        w.WriteNumber("connectTimeouts", tcp.ConnectTimeouts);
        w.WriteNumber("limitReached", tcp.LimitReached);
        w.WriteNumber("segmentsIn", tcp.SegmentsIn);
        w.WriteNumber("segmentsOut", tcp.SegmentsOut);
        w.WriteNumber("bytesFromGuest", tcp.BytesFromGuest);
        w.WriteNumber("bytesToGuest", tcp.BytesToGuest);
        w.WriteNumber("retransmits", tcp.Retransmits);
        w.WriteNumber("fastRetransmits", tcp.FastRetransmits);
        w.WriteNumber("resetsToGuest", tcp.ResetsToGuest);
        w.WriteNumber("resetsFromGuest", tcp.ResetsFromGuest);
        w.WriteNumber("resetsFromHost", tcp.ResetsFromHost);
        w.WriteNumber("outOfOrder", tcp.OutOfOrder);
        w.WriteNumber("outOfWindow", tcp.OutOfWindow);
        w.WriteNumber("challengeAcks", tcp.ChallengeAcks);
        w.WriteNumber("keepaliveProbes", tcp.KeepaliveProbes);
        w.WriteNumber("keepaliveTimeouts", tcp.KeepaliveTimeouts);
        w.WriteNumber("windowProbes", tcp.WindowProbes);
        w.WriteNumber("partialWrites", tcp.PartialWrites);
        w.WriteEndObject();
        w.WriteStartObject("udp");
        var udp = Udp.Counters;
        w.WriteNumber("flows", Udp.Count);
        w.WriteNumber("flowsOpened", udp.FlowsOpened);
        w.WriteNumber("flowsExpired", udp.FlowsExpired);
        w.WriteNumber("flowsEvicted", udp.FlowsEvicted);
        w.WriteNumber("datagramsFromGuest", udp.DatagramsFromGuest);
        w.WriteNumber("datagramsToGuest", udp.DatagramsToGuest);
        w.WriteNumber("bytesFromGuest", udp.BytesFromGuest);
        w.WriteNumber("bytesToGuest", udp.BytesToGuest);
        w.WriteNumber("sendDropped", udp.SendDropped);
        w.WriteNumber("tooBig", udp.TooBig);
        w.WriteNumber("icmpErrorsRelayed", udp.IcmpErrorsRelayed);
        w.WriteNumber("socketFailures", udp.SocketFailures);
        w.WriteEndObject();
        w.WriteStartObject("ping");
        w.WriteString("mode", PingMode);
        w.WriteNumber("flows", Ping.Count);
        w.WriteNumber("echoesSent", Ping.EchoesSent);
        w.WriteNumber("repliesRelayed", Ping.RepliesRelayed);
        w.WriteNumber("errorsRelayed", Ping.ErrorsRelayed);
        w.WriteNumber("refused", Ping.Unavailable);
        w.WriteEndObject();
        WriteDnsStats(w);
        WriteProxyStats(w);
        w.WriteNumber("loopFaults", Loop.Faults);
        w.WriteNumber("timers", Loop.Timers.Count);
    });

    private void WriteDnsStats(Utf8JsonWriter w)
    {
        w.WriteStartObject("dns");
        var dns = Dns.Resolver.Counters;
        w.WriteNumber("queries", dns.Queries);
        w.WriteNumber("tcpQueries", dns.TcpQueries);
        w.WriteNumber("tcpConnections", dns.TcpConnections);
        w.WriteNumber("local", dns.AnsweredLocal);
        w.WriteNumber("cached", dns.AnsweredFromCache);
        w.WriteNumber("hostResolver", dns.AnsweredByHost);
        w.WriteNumber("upstream", dns.AnsweredByUpstream);
        w.WriteNumber("joinedLookup", dns.JoinedLookup);
        w.WriteNumber("inhibited", dns.Inhibited);
        w.WriteNumber("truncated", dns.Truncated);
        w.WriteNumber("nxdomain", dns.NameErrors);
        w.WriteNumber("servfail", dns.ServerFailures);
        w.WriteNumber("formerr", dns.FormatErrors);
        w.WriteNumber("notimp", dns.NotImplemented);
        w.WriteNumber("refused", dns.Refused);
        w.WriteNumber("droppedMalformed", dns.DroppedMalformed);
        w.WriteNumber("droppedWaiters", dns.DroppedWaiters);
        w.WriteNumber("timeouts", dns.Timeouts);
        w.WriteNumber("overloaded", dns.Overloaded);
        w.WriteNumber("upstreamMismatched", Dns.Forwarder.Mismatched);
        w.WriteNumber("resolvConfReloads", dns.ResolvConfReloads);
        w.WriteNumber("inflight", Dns.Resolver.LookupsInFlight);
        w.WriteNumber("cacheSize", Dns.Resolver.Cache.Count);
        w.WriteNumber("cacheBytes", Dns.Resolver.Cache.Bytes);
        w.WriteNumber("cacheEvictions", Dns.Resolver.Cache.Evictions);
        w.WriteNumber("localNames", Dns.Resolver.Local.Count);
        w.WriteEndObject();
    }

    private void WriteProxyStats(Utf8JsonWriter w)
    {
        w.WriteStartObject("proxy");
        var proxy = Proxy.Counters;
        w.WriteNumber("connections", Interlocked.Read(ref proxy.Connections));
        w.WriteNumber("active", Interlocked.Read(ref proxy.Active));
        w.WriteNumber("requests", Interlocked.Read(ref proxy.Requests));
        w.WriteNumber("tunnels", Interlocked.Read(ref proxy.Tunnels));
        w.WriteNumber("transparent", Interlocked.Read(ref proxy.Transparent));
        w.WriteNumber("blocked", Interlocked.Read(ref proxy.Blocked));
        w.WriteNumber("malformed", Interlocked.Read(ref proxy.Malformed));
        w.WriteNumber("upstreamFailures", Interlocked.Read(ref proxy.UpstreamFailures));
        w.WriteNumber("refused", Interlocked.Read(ref proxy.Refused));
        w.WriteNumber("reloads", Interlocked.Read(ref proxy.Reloads));
        w.WriteNumber("reloadsRefused", Interlocked.Read(ref proxy.ReloadsRefused));
        w.WriteNumber("resolvedNames", ResolvedNames.Count);
        w.WriteEndObject();
    }

    private string LeasesJson() => JsonText.BuildArray(w =>
    {
        foreach (var lease in Dhcp.Pool.Leases.OrderBy(l => l.Address))
        {
            w.WriteStartObject();
            w.WriteString("address", lease.Address.ToString());
            w.WriteString("mac", lease.Client.ToString());
            w.WriteString("state", lease.State.ToString().ToLowerInvariant());
            w.WriteEndObject();
        }
    });

    public async ValueTask DisposeAsync()
    {
        if (_control is not null)
        {
            await _control.DisposeAsync();
        }
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }
        Publisher.CloseAll();
        Proxy.Dispose();
        Dns.Dispose();
        Switch.CloseAll();
        Switch.Capture?.Dispose();
        Loop.Dispose();
    }
}
