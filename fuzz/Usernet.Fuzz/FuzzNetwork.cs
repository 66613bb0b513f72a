using Usernet.Fuzz.Fakes;
using Usernet.Link;
using Usernet.Platform;
using Usernet.Services.Dhcp;
using Usernet.Services.Dhcp6;
using Usernet.Services.Dns;
using Usernet.Stack;
using Usernet.Stack.Icmp;
using Usernet.Stack.Tcp;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Fuzz;

/// <summary>
/// An instance in memory, built as Cli/Instance builds one (NetworkStack.Builder, the switch,
/// TCP, UDP and ping NAT, DHCP, DHCPv6, DNS, router advertisements), with in-memory links,
/// host sockets that the input plays, a DNS resolver whose lookups the input answers, and
/// time that moves only when the input moves it. The tables are small, so that an input of a
/// few frames already meets their limits. A probe guest on a link of its own checks that the
/// stack still answers.
/// </summary>
internal sealed class FuzzNetwork
{
    public static readonly Instant Start = Instant.FromMilliseconds(1_000);

    public static readonly StackOptions StackOptions = new()
    {
        Fragments = new ReassemblyLimits(4, 8, TimeSpan.FromSeconds(30)),
        DnsSearchList = DnsSearchList.Encode(["corp.example", "example.test"]),
    };

    public static readonly TcpOptions TcpOptions = new() { MaxConnections = 8 };

    public static readonly UdpOptions UdpOptions = new() { MaxFlows = 8 };

    public const int MaxLeases = 6;

    public const int DnsCacheSize = 8;

    public static readonly DnsResolverOptions DnsOptions = new() { MaxLookups = 4, MaxWaitersPerLookup = 4 };

    /// <summary>
    /// The switch only hands an attached link the loop to register with; these links have no
    /// fd, and the loop never runs, so one serves every input.
    /// </summary>
    private static readonly EventLoop UnusedLoop = new();

    private readonly LoopTimer _dnsExpiry;

    public FuzzNetwork()
    {
        Guests = [new("guest a", sequences: Sequences), new("guest b", sequences: Sequences)];
        Switch = new VirtualSwitch(UnusedLoop);
        var builder = new NetworkStack.Builder(StackOptions, Switch, Timers);
        Tcp = builder.Tcp(s => new TcpTransport(s, Timers, Connector, TcpOptions));
        Udp = builder.Udp(s => new UdpNat(s, Timers, Datagrams, UdpOptions));
        Ping = builder.Echo(s => new IcmpEchoNat(s, Timers, Datagrams, UdpOptions.IdleTimeout));
        var options = StackOptions;
        var pool = new DhcpLeasePool(options.FirstGuest, options.SubnetBroadcast.Offset(-1), [options.Gateway, options.Host], MaxLeases);
        Dhcp = builder.UdpService(DhcpMessage.ServerPort, s => new DhcpServer(DhcpOptions, pool, s, Switch.Addresses));
        Dhcp6 = builder.UdpService(Dhcpv6Message.ServerPort, s => new Dhcpv6Server(Dhcpv6Options, s, Switch.Addresses));
        Dns = NewResolver(DnsLookups, (from, to, payload) => Stack!.SendUdp(from, to, payload));
        _dnsExpiry = Timers.Create(ExpireDns);
        Dns.ScheduleExpiry = due => _dnsExpiry.ScheduleNoLaterThan(due);
        builder.UdpService(DnsServer.Port, s => new DnsService(Dns, s));
        Stack = builder.Build();
        Switch.AttachStack(Stack);
        Switch.Attach(ProbeLink);
        // The probe's addresses are its own, as `usernet run` reserves its guest's: a guest that
        // sent from them first would otherwise own them, and the probe's pings be dropped as forged.
        Dhcp.Reserve(ProbeFrames.Mac, ProbeFrames.Address);
        Dhcp6.Reserve(ProbeFrames.Mac, ProbeFrames.Address6);
        foreach (var guest in Guests)
        {
            Switch.Attach(guest);
        }
    }

    public static DhcpServerOptions DhcpOptions { get; } = new()
    {
        ServerAddress = StackOptions.Gateway,
        Router = StackOptions.Gateway,
        PrefixLength = StackOptions.PrefixLength,
        DnsServers = [StackOptions.Gateway],
        SearchDomains = ["corp.example", "example.test"],
    };

    public static Dhcpv6ServerOptions Dhcpv6Options { get; } = new()
    {
        ServerMac = StackOptions.Mac,
        ServerAddress = StackOptions.GatewayLinkLocal,
        Prefix = StackOptions.Ipv6Prefix,
        FirstAddress = StackOptions.FirstGuestV6,
        Excluded = [StackOptions.GatewayV6, StackOptions.HostV6],
        DnsServers = [StackOptions.GatewayV6],
        SearchDomains = ["corp.example"],
        MaxLeases = MaxLeases,
    };

    /// <summary>A resolver with Usernet's own names, a small cache, and <paramref name="lookups"/> for the rest.</summary>
    public static DnsResolver NewResolver(IDnsLookupSource lookups, DnsDatagramSender send)
    {
        var options = StackOptions;
        var local = new DnsLocalRecords(DnsLocalRecords.BuiltInNames(options.Host, options.HostV6, options.Gateway, options.GatewayV6));
        var upstreams = new DnsUpstreams([], new Dictionary<string, IReadOnlyList<IpEndpoint>>
        {
            ["corp.example"] = [new IpEndpoint(Ipv4Address.Parse("198.18.0.53"), 53)],
        })
        {
            HostNameservers = [new IpEndpoint(Ipv4Address.Parse("198.18.0.1"), 53)],
        };
        var inhibition = new DnsInhibitionPolicy(Config.DnsInhibition.Auto, () => true, () => true);
        return new DnsResolver(DnsOptions, local, new DnsCache(DnsCacheSize), inhibition, upstreams, lookups, send);
    }

    public TimerQueue Timers { get; } = new();

    public VirtualSwitch Switch { get; }

    public NetworkStack Stack { get; }

    public FakeTcpConnector Connector { get; } = new();

    public FakeDatagramFactory Datagrams { get; } = new();

    public FakeDnsLookups DnsLookups { get; } = new();

    public TcpTransport Tcp { get; }

    public UdpNat Udp { get; }

    public IcmpEchoNat Ping { get; }

    public DhcpServer Dhcp { get; }

    public Dhcpv6Server Dhcp6 { get; }

    public DnsResolver Dns { get; }

    /// <summary>The stack's initial sequence numbers, as the guests saw them.</summary>
    public StackSequences Sequences { get; } = new();

    /// <summary>The two guests whose frames the input writes.</summary>
    public MemoryLink[] Guests { get; }

    /// <summary>The probe's link, attached first: what the stack sends it is kept for <see cref="Probe"/>.</summary>
    public MemoryLink ProbeLink { get; } = new("probe", keep: true);

    public Instant Now { get; private set; } = Start;

    /// <summary>A frame from <paramref name="link"/> as one loop batch: the ACKs and frames it produced go out at its end.</summary>
    public void Receive(FrameLink link, Span<byte> frame, ReceivedChecksum checksum = default)
    {
        Switch.OnFrame(link, frame, Now, checksum);
        EndBatch();
    }

    /// <summary>A host socket's event, as a loop batch of its own.</summary>
    public void OnHost(Action<Instant> hostEvent)
    {
        hostEvent(Now);
        EndBatch();
    }

    /// <summary>Moves time on, waking at every timer on the way as the loop would.</summary>
    public void Advance(TimeSpan span)
    {
        var until = Now + span;
        for (int wakeups = 0; Timers.NextDue <= until; wakeups++)
        {
            // A timer that keeps itself due at the same instant would spin the loop for good.
            PropertyException.Check(wakeups < 100_000, "the timers never settle");
            if (Timers.NextDue > Now)
            {
                Now = Timers.NextDue;
            }
            Timers.RunDue(Now);
            EndBatch();
        }
        Now = until;
    }

    /// <summary>Every table within the limit it was given.</summary>
    public void CheckBounds()
    {
        PropertyException.Check(Tcp.Count <= TcpOptions.MaxConnections, $"{Tcp.Count} TCP connections, limit {TcpOptions.MaxConnections}");
        PropertyException.Check(Udp.Count <= UdpOptions.MaxFlows, $"{Udp.Count} UDP flows, limit {UdpOptions.MaxFlows}");
        PropertyException.Check(Ping.Count <= UdpOptions.MaxFlows, $"{Ping.Count} ping flows, limit {UdpOptions.MaxFlows}");
        PropertyException.Check(Dhcp.Pool.Count <= MaxLeases, $"{Dhcp.Pool.Count} DHCP leases, limit {MaxLeases}");
        PropertyException.Check(Dhcp6.LeaseCount <= MaxLeases, $"{Dhcp6.LeaseCount} DHCPv6 leases, limit {MaxLeases}");
        PropertyException.Check(Dns.LookupsInFlight <= DnsOptions.MaxLookups, $"{Dns.LookupsInFlight} DNS lookups, limit {DnsOptions.MaxLookups}");
        PropertyException.Check(Dns.Cache.Count <= DnsCacheSize, $"{Dns.Cache.Count} cached DNS answers, limit {DnsCacheSize}");
        PropertyException.Check(Stack.Reassembler.PendingCount <= StackOptions.Fragments.MaxDatagrams, $"{Stack.Reassembler.PendingCount} IPv4 reassemblies");
        PropertyException.Check(Stack.PendingReassemblies6 <= StackOptions.Fragments.MaxDatagrams, $"{Stack.PendingReassemblies6} IPv6 reassemblies");
        PropertyException.Check(Stack.Neighbours.Count <= NeighbourTable.Capacity, $"{Stack.Neighbours.Count} neighbours");
        PropertyException.Check(Datagrams.Sockets.Count(s => !s.Closed) <= 2 * UdpOptions.MaxFlows, "more host datagram sockets open than flows");
        PropertyException.Check(Connector.Sockets.Count(s => !s.Closed) <= TcpOptions.MaxConnections, "more host TCP sockets open than connections");
    }

    /// <summary>The probe pings the gateway over IPv4 and IPv6 and asks it a DNS question; all three must be answered.</summary>
    public void Probe()
    {
        ProbeLink.Sent.Clear();
        foreach (byte[] frame in ProbeFrames.All)
        {
            Receive(ProbeLink, (byte[])frame.Clone());
        }
        var answered = ProbeFrames.Answered(ProbeLink.Sent);
        PropertyException.Check(answered == ProbeFrames.Everything, $"the stack no longer answers the probe ({ProbeFrames.Describe(answered)} answered)");
    }

    private void EndBatch()
    {
        Tcp.FlushAcks(Now);
        Switch.Flush();
    }

    private void ExpireDns(Instant now)
    {
        Dns.Expire(now);
        if (Dns.NextDeadline != Instant.Never)
        {
            _dnsExpiry.Schedule(Dns.NextDeadline);
        }
    }
}
