using Usernet.Control;
using Usernet.Link;
using Usernet.Nat;
using Usernet.Platform;
using Usernet.Services.Dhcp;
using Usernet.Services.Dhcp6;
using Usernet.Services.Diagnostics;
using Usernet.Services.Dns;
using Usernet.Services.FlowLog;
using Usernet.Services.Forwarding;
using Usernet.Services.Proxy;
using Usernet.Services.Proxy.Pac;
using Usernet.Services.Proxy.Upstream;
using Usernet.Services.Socks;
using Usernet.Stack;
using Usernet.Stack.Icmp;
using Usernet.Stack.Tcp;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Cli;

/// <summary>
/// One running Usernet: the loop, the switch with its guest links, the stack with its
/// transports and services, the proxy, the port publisher and the control API. `usernet run`
/// and `usernet serve` both build one; they differ only in where the links come from.
/// </summary>
internal sealed class Instance : IAsyncDisposable
{
    private readonly InstanceOptions _options;
    private readonly List<IDisposable> _listeners = new();
    private ControlServer? _control;

    /// <summary>The metrics.listen listener, bound at set-up; null when off.</summary>
    private ControlServer? _metrics;

    public Instance(InstanceOptions options)
    {
        _options = options;
        var network = options.Stack;
        Loop = new EventLoop { PollBeforeSleepNs = (long)options.Settings.LoopPoll.TotalNanoseconds };
        Switch = new VirtualSwitch(Loop) { Capture = options.PcapPath is null ? null : PcapWriter.Create(options.PcapPath, options.PcapLimit) };
        Connector = new HostTcpConnector(Loop, options.Tcp, network.Gateway, network.GatewayV6, network.GatewayLinkLocal);
        var datagrams = new HostDatagramFactory(Loop);
        var leases = new DhcpLeasePool(network.FirstGuest, network.SubnetBroadcast.Offset(-1), [network.Gateway, network.Host], options.MaxLeases);

        var stack = new NetworkStack.Builder(network, Switch, Loop.Timers);
        Tcp = stack.Tcp(s => new TcpTransport(s, Loop.Timers, Connector, options.Tcp));
        Udp = stack.Udp(s => new UdpNat(s, Loop.Timers, datagrams, options.Udp));
        Ping = stack.Echo(s => new IcmpEchoNat(s, Loop.Timers, datagrams, options.Udp.IdleTimeout));
        Dhcp = stack.UdpService(DhcpMessage.ServerPort, s => new DhcpServer(options.Dhcp, leases, s, Switch.Addresses));
        Dhcp6 = stack.UdpService(Dhcpv6Message.ServerPort, s => new Dhcpv6Server(options.Dhcp6, s, Switch.Addresses));
        Dns = stack.UdpService(DnsServer.Port, s => new DnsServer(options.Dns, Loop, (from, to, payload) => s.SendUdp(from, to, payload)));
        if (ThrowingUdpService.Enabled)
        {
            stack.UdpService(ThrowingUdpService.Port, _ => new ThrowingUdpService(Loop.Timers));
        }
        Stack = stack.Build();
        Switch.AttachStack(Stack);
        Stack.Egress.Replace(options.Settings.Egress.Compile(), reload: false);

        ResolvedNames = new ResolvedNames();
        FlowLog = new FlowLog(Switch, Stack, ResolvedNames, options.FlowLogPath is { } flows ? new FlowLogFile(flows, options.FlowLogMaxBytes) : null);
        Stack.FlowEnded = (record, end) => FlowLog.Add(record, end, Loop.Now);
        if (options.FlowLogStarts)
        {
            Stack.FlowStarted = record => FlowLog.AddStart(record, Loop.Now);
        }
        var proxyResolver = new GatewayDnsClient(Loop, Dns.Resolver, network.Ipv4Enabled, network.Ipv6Enabled);
        Proxy = new ProxyService(options.Settings, options.SettingsPaths, options.SettingsFlags, new PacHost(proxyResolver), ResolvedNames);
        var proxyLimits = new ProxyLimits();
        var upstreams = new UpstreamConnector(proxyResolver, MapDirect, options.Tcp.ConnectTimeout, proxyLimits.UpstreamAnswer);
        ProxyServer = new HttpProxyServer(() => Proxy.Policy, upstreams, ResolvedNames, Proxy.Counters, proxyLimits, EgressDenial);
        Publisher = new PortPublisher(Loop, Stack, Tcp, Udp, options.Publish);
        Destinations = new SocksDestinations(network, Stack.Routes);
        Destinations.AddNames(new LocalRecordNames(Dns.Resolver.Local));
        Socks = options.Socks is { } socks ? new SocksServer(Loop, Publisher, Destinations, socks) : null;
        Pinger = new GuestPinger(Loop.Timers, Stack);
        Stats = new InstanceStats(Name, options.Mode, Loop, Switch, Stack, Dhcp, Dhcp6, Tcp, Udp, Ping, datagrams.PingMode, Dns, ProxyServer, Publisher, Socks);
        ServeOnTheGateway();

        // ACKs gathered in a batch go out before the links flush what the batch produced.
        Loop.AddAfterDispatch(Tcp.FlushAcks);
        Loop.AddAfterDispatch(_ => Switch.Flush());
        Dns.Start();
        // A reload puts a new egress policy in force for new flows; flows already decided keep their verdict.
        Proxy.ApplyLive(Config.SettingsSection.Egress, settings => Stack.Egress.Replace(settings.Egress.Compile(), reload: true));
        Proxy.ReloadRefused += _ => Stack.Egress.CountRefusedReload();
        Proxy.StartWatching();
    }

    public string Name => _options.Name;

    public EventLoop Loop { get; }

    public VirtualSwitch Switch { get; }

    public NetworkStack Stack { get; }

    /// <summary>Opens host sockets, and holds the gateway's own TCP services.</summary>
    public HostTcpConnector Connector { get; }

    public TcpTransport Tcp { get; }

    public UdpNat Udp { get; }

    public IcmpEchoNat Ping { get; }

    public DhcpServer Dhcp { get; }

    public Dhcpv6Server Dhcp6 { get; }

    public DnsServer Dns { get; }

    /// <summary>Which name guests resolved each address from.</summary>
    public ResolvedNames ResolvedNames { get; }

    /// <summary>A line for each flow that ends: log.flows and <c>GET /flows</c>.</summary>
    public FlowLog FlowLog { get; }

    /// <summary>The upstream proxy policy and its reload.</summary>
    public ProxyService Proxy { get; }

    /// <summary>The HTTP proxy on the gateway's port 3128, and the transparent proxy.</summary>
    public HttpProxyServer ProxyServer { get; }

    public PortPublisher Publisher { get; }

    /// <summary>What the guests' networks are, and the names in them, for the SOCKS server.</summary>
    public SocksDestinations Destinations { get; }

    /// <summary>Echo requests from the gateway into the guests' networks: <c>usernet ping</c>.</summary>
    public GuestPinger Pinger { get; }

    /// <summary>The SOCKS5 server into the guests' networks (socks.listen); null when off.</summary>
    public SocksServer? Socks { get; }

    /// <summary>What <c>usernet stats</c> prints.</summary>
    public InstanceStats Stats { get; }

    public string? ControlSocket => _control?.SocketPath;

    /// <summary>The gateway's TCP services (DNS, the proxy) and the connections the transparent proxy takes.</summary>
    private void ServeOnTheGateway()
    {
        Connector.GatewayServices.Add(DnsServer.Port, (socket, connection) => Dns.Tcp.Accept(socket, connection.Guest));
        Connector.GatewayServices.Add(HttpProxyServer.Port, ProxyServer.Accept);
        Connector.Divert = (flow, destination) =>
        {
            var original = new System.Net.IPEndPoint(flow.Remote.Address.ToIPAddress(), flow.Remote.Port);
            return Proxy.WantsTransparent(flow.Remote, destination) ? (socket, connection) => ProxyServer.AcceptTransparent(socket, connection, original) : null;
        };
        // Only transparent proxying, the egress policy's name rules and the flow log ask which
        // name an address came from: without them (the default) and with nobody reading the
        // flow log, the answers are not parsed a second time.
        Dns.Resolver.ResponseObserver = response =>
        {
            if (!Proxy.Policy.TransparentPorts.IsEmpty || FlowLog.HasReaders)
            {
                ResolvedNames.Observe(response);
            }
            if (Stack.Egress.Policy.HasNameRules)
            {
                LearnEgressNames(response);
            }
        };
        Dns.Resolver.NameRefusal = RefuseDeniedName;
    }

    /// <summary>The A and AAAA records the DNS server gives a guest, under the name it asked, for the egress policy's name rules.</summary>
    private void LearnEgressNames(ReadOnlySpan<byte> response)
    {
        if (!DnsMessage.TryParse(response, out var header) || header.AnswerCount == 0
            || !DnsAddressAnswer.TryReadWithTtls(response, out string name, out byte code, out var records)
            || code != DnsResponseCode.NoError)
        {
            return;
        }
        foreach (var (address, ttl) in records)
        {
            Stack.Egress.Names.Add(address.ToIpAddress(), name, TimeSpan.FromSeconds(ttl), Loop.Now);
        }
    }

    /// <summary>A query for a name the egress policy denies gets egress.dnsRefusal's answer (see <see cref="Usernet.Stack.Egress.EgressPolicy.MatchName"/>).</summary>
    private byte RefuseDeniedName(ReadOnlySpan<byte> lowerName)
    {
        var policy = Stack.Egress.Policy;
        if (policy.AllowsAll)
        {
            return DnsResponseCode.NoError;
        }
        Span<char> text = stackalloc char[DnsName.MaxLength];
        int length = 0;
        // Wire labels to dotted text: each label's length octet, then its octets.
        for (int at = 0; at < lowerName.Length && lowerName[at] != 0; at += lowerName[at] + 1)
        {
            if (length > 0)
            {
                text[length++] = '.';
            }
            foreach (byte octet in lowerName.Slice(at + 1, lowerName[at]))
            {
                text[length++] = (char)octet;
            }
        }
        if (policy.MatchName(text[..length]).Allowed)
        {
            return DnsResponseCode.NoError;
        }
        return policy.DnsRefusal == Usernet.Stack.Egress.EgressDnsRefusal.NxDomain ? DnsResponseCode.NameError : DnsResponseCode.Refused;
    }

    /// <summary>
    /// Where the proxy's direct connections go: as the guest's own TCP connections would
    /// (<see cref="EgressRule"/> and the egress policy, which sees the name asked for as well as
    /// the address); null for the gateway and what they refuse, with the rule that denied it.
    /// </summary>
    private System.Net.IPAddress? MapDirect(System.Net.IPAddress address, string host, int port, out string? denial)
    {
        var gate = Stack.Egress;
        var policy = gate.Policy;
        var memo = default(Usernet.Stack.Egress.EgressMemo);
        var destination = new IpEndpoint(address.ToIpAddress(), (ushort)port);
        string? name = System.Net.IPAddress.TryParse(host, out _) ? null : host;
        var verdict = EgressRule.Decide(_options.Stack, policy, gate.Names, Usernet.Stack.Egress.EgressProtocols.Tcp, destination, name,
            Platform.Interop.Libc.MonotonicNow(), ref memo, out var target);
        denial = verdict == EgressVerdict.Denied ? policy.Describe(memo.Decision) : null;
        return verdict is EgressVerdict.Direct or EgressVerdict.HostLoopback ? target.ToIPAddress() : null;
    }

    /// <summary>
    /// Whether the egress policy refuses a proxy request by its name, before any lookup: the
    /// first name rule for it on that port decides; with none, a name the DNS server would
    /// refuse (<see cref="Usernet.Stack.Egress.EgressPolicy.MatchName"/>) is refused, and through
    /// an upstream proxy (<paramref name="direct"/> false), where no address is ever known,
    /// so is any name under a deny default. An address in place of a name is decided as the
    /// address. Returns the rule that refused, or null.
    /// </summary>
    private string? EgressDenial(string host, int port, bool direct)
    {
        var policy = Stack.Egress.Policy;
        if (policy.AllowsAll)
        {
            return null;
        }
        if (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            return !direct && MapDirect(literal, host, port, out string? denial) is null ? denial : null;
        }
        if (policy.DecideName(host, (ushort)port) is { } decision)
        {
            return decision.Allowed ? null : policy.Describe(decision);
        }
        if (policy.MatchName(host).Allowed && (direct || policy.Default == Usernet.Stack.Egress.EgressAction.Allow))
        {
            return null;
        }
        var refused = new Usernet.Stack.Egress.EgressDecision(false, Usernet.Stack.Egress.EgressDecision.DefaultRule);
        policy.Counters.Count(refused);
        return policy.Describe(refused);
    }

    /// <summary>Adds a guest link. Call on the loop thread, or before <see cref="Run"/>.</summary>
    public void Attach(FrameLink link) => Switch.Attach(link);

    public void AddListener(IDisposable listener) => _listeners.Add(listener);

    /// <summary>
    /// Publishes the ports of the settings and the command line, and opens the metrics and SOCKS
    /// servers' listeners, printing where each listens: during set-up, before the process is confined.
    /// Throws <see cref="PublishException"/> (nothing stays published) when one cannot be.
    /// </summary>
    public void PublishAtStart()
    {
        try
        {
            if (_options.MetricsListen is { } metrics)
            {
                try
                {
                    _metrics = ControlServer.ListenTcp(new System.Net.IPEndPoint(metrics.Address.ToIPAddress(), metrics.Port));
                }
                catch (System.Net.Sockets.SocketException e)
                {
                    throw new PublishException($"metrics.listen {metrics}: {e.Message}");
                }
                Console.Error.WriteLine($"usernet: Prometheus metrics on http://{_metrics.TcpEndpoint}/metrics");
            }
            if (Socks is { } socks)
            {
                try
                {
                    socks.Listen();
                }
                catch (PublishException e)
                {
                    throw new PublishException($"socks.listen {socks.Options.Listen}: {e.Message}");
                }
                Console.Error.WriteLine($"usernet: SOCKS5 on {socks.Endpoint} into the guests' networks{(socks.Options.Credentials is null ? "" : ", with a user and password")}");
            }
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
            _metrics?.DisposeAsync().AsTask().Wait();
            _metrics = null;
            Socks?.Dispose();
            Publisher.CloseAll();
            throw;
        }
    }

    /// <summary>Opens the control socket and its routes.</summary>
    public void StartControl()
    {
        InstanceDirectory.EnsureExists();
        _control = new ControlServer(InstanceDirectory.SocketPath(Name));
        StatsRoutes.Map(_control, Loop, Stats);
        InfoRoutes.Map(_control, Loop, Name, _options.Stack, Dhcp.Pool, Tcp);
        DnsRecordRoutes.Map(_control, Loop, Dns.Resolver.Local);
        PingRoutes.Map(_control, Loop, Pinger, Destinations);
        PortRoutes.Map(_control, Loop, Publisher);
        ProxyRoutes.Map(_control, Proxy);
        MetricsRoutes.Map(_control, Loop, Stats);
        FlowRoutes.Map(_control, FlowLog, Loop, () => Tcp.Connections.Select(c => c.Record).Concat(Udp.OpenRecords).Concat(Ping.OpenRecords));
        GuestRoutes.Map(_control, Loop, Stack);
        PolicyRoutes.Map(_control, Proxy, Stack.Egress);
        _control.Start();
        if (_metrics is not null)
        {
            MetricsRoutes.Map(_metrics, Loop, Stats);
            _metrics.Start();
        }
    }

    /// <summary>
    /// Gives up what the instance no longer needs, once everything privileged is set up:
    /// every capability but <c>security.capabilities</c> (and <paramref name="alsoKeep"/>, what a
    /// command needs beyond them), no_new_privs, and the seccomp filter of <c>security.seccomp</c>
    /// (with <paramref name="moreSyscalls"/>). Throws <see cref="InvalidOperationException"/> when
    /// a thread would keep what the others dropped.
    /// </summary>
    public void Confine(CapabilitySet alsoKeep = default, IReadOnlyList<(string Name, int Number)>? moreSyscalls = null)
    {
        var security = _options.Settings.Security;
        string summary = Confinement.Apply(security.Capabilities.Union(alsoKeep), security.Seccomp, moreSyscalls);
        Log.Info($"confined: {summary}");
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

    public async ValueTask DisposeAsync()
    {
        if (_control is not null)
        {
            await _control.DisposeAsync();
        }
        if (_metrics is not null)
        {
            await _metrics.DisposeAsync();
        }
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }
        Socks?.Dispose();
        Publisher.CloseAll();
        Proxy.Dispose();
        Dns.Dispose();
        Switch.CloseAll();
        Switch.Capture?.Dispose();
        // After the links: the flows their closing ends are logged too.
        await FlowLog.DisposeAsync();
        Loop.Dispose();
    }
}
