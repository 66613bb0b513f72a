using Usernet.Config;
using Usernet.Platform;
using Usernet.Services.Dhcp;
using Usernet.Services.Dhcp6;
using Usernet.Services.Dns;
using Usernet.Services.Forwarding;
using Usernet.Services.Socks;
using Usernet.Stack;
using Usernet.Stack.Tcp;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Cli;

/// <summary>The options that map onto settings keys, shared by run, serve and config.</summary>
internal static class SettingsOptions
{
    /// <summary>Flags that are shorthands for one settings key.</summary>
    private static readonly (string Flag, string Key, string ValueName, string Help)[] KeyFlags =
    [
        ("--subnet", "vpnkitCIDR", "CIDR", "the guests' IPv4 subnet (vpnkitCIDR, default 192.168.65.0/24)"),
        ("--mtu", "network.mtu", "N", "MTU towards the guests (default 65520 on TAP, 1500 on VM links)"),
        ("--socks", "socks.listen", "ADDR", "serve SOCKS5 into the guests' networks on ADDR, such as 127.0.0.1:1080 (socks.listen)"),
    ];

    public static CommandLine AddTo(CommandLine line)
    {
        line.Option("--settings", "FILE", "read settings from FILE instead of ~/.config/usernet/settings.json")
            .Option("--set", "KEY=VALUE", "set any settings key, as in settings.json (repeatable)", repeatable: true);
        foreach (var (flag, _, valueName, help) in KeyFlags)
        {
            line.Option(flag, valueName, help);
        }
        return line
            .Option("--publish", "SPEC", "publish a guest port on the host: [HOST_IP:][HOST_PORT:]GUEST_PORT[/tcp|/udp], or auto (run only) (repeatable)", repeatable: true, alias: "-p")
            .Option("--log-level", "LEVEL", "debug, info, warning (default) or error");
    }

    /// <summary>Loads the settings: defaults, admin-settings.json, settings.json, then these flags.</summary>
    public static Settings Load(CommandLine line) => Load(line, out _, out _);

    /// <summary>Loads, and says where from: what a reload reads again.</summary>
    public static Settings Load(CommandLine line, out SettingsPaths paths, out IReadOnlyList<SettingOverride> flags)
    {
        ApplyLogLevel(line.Value("--log-level"));
        var overrides = new List<SettingOverride>();
        foreach (var (flag, key, _, _) in KeyFlags)
        {
            if (line.Value(flag) is { } value)
            {
                overrides.Add(new SettingOverride(key, value, flag));
            }
        }
        foreach (string assignment in line.Values("--set"))
        {
            if (!SettingOverride.TryParseAssignment(assignment, out var setting))
            {
                throw new UsageException($"--set {assignment}: expected KEY=VALUE");
            }
            overrides.Add(setting);
        }
        paths = SettingsPaths.FromEnvironment(line.Value("--settings"));
        flags = overrides;
        var result = SettingsLoader.LoadFromSystem(paths, overrides);
        foreach (var warning in result.Warnings)
        {
            Log.Warn(warning.ToString());
        }
        if (!result.Succeeded)
        {
            throw new UsageException(string.Join("\nusernet: ", result.Errors.Select(e => e.ToString())));
        }
        return result.Settings!;
    }

    /// <summary>Builds what an instance runs with from the settings and the command line.</summary>
    public static InstanceOptions Resolve(CommandLine line, string defaultName)
    {
        var settings = Load(line, out var paths, out var flags);
        var options = FromSettings(settings, InstanceNameOption.Read(line) ?? defaultName);
        return options with
        {
            SettingsPaths = paths,
            SettingsFlags = flags,
            PublishSpecs = [.. options.PublishSpecs, .. line.Values("--publish").Where(v => v != "auto")],
            PcapPath = line.Value("--pcap"),
            PcapLimit = ReadPcapLimit(line),
        };
    }

    /// <summary>--pcap-limit: bytes, or a number of KiB, MiB or GiB (64K, 100M, 2G); at least 1 KiB.</summary>
    private static long? ReadPcapLimit(CommandLine line)
    {
        if (line.Value("--pcap-limit") is not { } text)
        {
            return null;
        }
        if (!line.Has("--pcap"))
        {
            throw new UsageException("--pcap-limit limits the capture of --pcap FILE, which is not given");
        }
        int unit = text.Length == 0 ? 0 : char.ToUpperInvariant(text[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 0 };
        string digits = unit == 0 ? text : text[..^1];
        if (digits.Length is 0 or > 15 || !digits.All(char.IsAsciiDigit))
        {
            throw new UsageException($"--pcap-limit: '{text}' is not a size such as 500000, 64K, 100M or 2G");
        }
        long bytes = long.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        if (bytes > long.MaxValue >> unit)
        {
            throw new UsageException($"--pcap-limit: '{text}' is too large");
        }
        bytes <<= unit;
        return bytes >= 1024 ? bytes : throw new UsageException($"--pcap-limit: '{text}' is less than 1K");
    }

    /// <summary>What an instance named <paramref name="name"/> runs with under <paramref name="settings"/>.</summary>
    public static InstanceOptions FromSettings(Settings settings, string name)
    {
        var network = settings.Network;
        var mode = network.Mode == NetworkingMode.Auto
            ? HostFamilyProbe.HasIpv6DefaultRoute() ? NetworkingMode.DualStack : NetworkingMode.Ipv4Only
            : network.Mode;
        var search = settings.Dns.SearchDomains ?? ResolvConf.Read(settings.Dns.ResolvConf).SearchDomains;
        var stack = new StackOptions
        {
            Subnet = network.Subnet,
            Gateway = network.GatewayIp,
            Host = network.HostIp,
            FirstGuest = network.FirstGuestIp,
            Ipv4Enabled = mode != NetworkingMode.Ipv6Only,
            Ipv6Enabled = mode != NetworkingMode.Ipv4Only,
            Ipv6Prefix = network.Ipv6Prefix,
            GatewayV6 = network.GatewayIpv6,
            HostV6 = network.HostIpv6,
            FirstGuestV6 = network.FirstGuestIpv6,
            Mtu = network.Mtu,
            Fragments = new ReassemblyLimits(settings.Fragments.MaxDatagrams, 256, settings.Fragments.Timeout),
            HostLoopback = network.HostLoopback,
            GuestRoutes = [.. network.GuestRoutes.Select(route => Ipv4Cidr.TryParse(route.Key, out var v4)
                ? GuestRoute.V4(v4, route.Value[0].V4)
                : GuestRoute.V6(Ipv6Cidr.Parse(route.Key), route.Value[0].V6))],
            DnsSearchList = DnsSearchList.Encode(search),
        };
        var dhcp = new DhcpServerOptions
        {
            ServerAddress = network.GatewayIp,
            Router = network.GatewayIp,
            PrefixLength = network.Subnet.PrefixLength,
            DnsServers = [network.GatewayIp],
            SearchDomains = search,
            LeaseTime = settings.Dhcp.LeaseTime,
        };
        var dhcp6 = new Dhcpv6ServerOptions
        {
            ServerMac = stack.Mac,
            ServerAddress = stack.GatewayLinkLocal,
            Prefix = network.Ipv6Prefix,
            FirstAddress = network.FirstGuestIpv6,
            Excluded = [network.GatewayIpv6, network.HostIpv6],
            DnsServers = [network.GatewayIpv6],
            SearchDomains = search,
            LeaseTime = settings.Dhcp.LeaseTime,
            MaxLeases = settings.Dhcp.MaxLeases,
        };
        return new InstanceOptions
        {
            Name = name,
            Publish = new PublishOptions
            {
                BindingBehavior = settings.Ports.BindingBehavior,
                AutoOnEveryInterface = settings.Ports.BindingBehavior == PortBindingBehavior.DefaultPortBinding
                    && settings.SourceOf(SettingsSchema.PortBindingBehavior).Kind != SettingSourceKind.Default,
                PreserveClientAddress = settings.Ports.PreserveClientAddress,
                UdpIdleTimeout = settings.Udp.IdleTimeout,
                UdpMaxClients = settings.Udp.MaxFlows,
            },
            PublishSpecs = settings.Ports.Publish,
            Mode = mode,
            Dhcp6 = dhcp6,
            Settings = settings,
            Stack = stack,
            Dhcp = dhcp,
            Dns = DnsServerOptions.FromSettings(settings) with
            {
                GuestHasIpv4 = () => stack.Ipv4Enabled,
                GuestHasIpv6 = () => stack.Ipv6Enabled,
            },
            MaxLeases = settings.Dhcp.MaxLeases,
            Tcp = new TcpOptions
            {
                MaxConnections = settings.Tcp.MaxConnections,
                MaxInboundConnections = settings.Tcp.MaxInboundConnections,
                ConnectTimeout = settings.Tcp.ConnectTimeout,
                KeepaliveIdle = settings.Tcp.KeepaliveIdle,
                KeepaliveInterval = settings.Tcp.KeepaliveInterval,
                KeepaliveCount = settings.Tcp.KeepaliveCount,
            },
            Udp = new UdpOptions
            {
                MaxFlows = settings.Udp.MaxFlows,
                IdleTimeout = settings.Udp.IdleTimeout,
            },
            Socks = SocksFrom(settings),
            MetricsListen = settings.Metrics.Listen,
            FlowLogPath = settings.Log.Flows.Length == 0 ? null : settings.Log.Flows,
            FlowLogMaxBytes = settings.Log.FlowsMaxBytes,
            FlowLogStarts = settings.Log.FlowStarts,
        };
    }

    private static SocksOptions? SocksFrom(Settings settings)
    {
        var socks = settings.Socks;
        return socks.Listen is not { } listen ? null : new SocksOptions
        {
            Listen = listen,
            Credentials = socks.User.Length == 0 ? null : new SocksCredentials(socks.User, socks.Password),
            MaxConnections = socks.MaxConnections,
            HandshakeTimeout = socks.HandshakeTimeout,
            ConnectTimeout = settings.Tcp.ConnectTimeout,
        };
    }

    private static void ApplyLogLevel(string? level)
    {
        Log.Level = level switch
        {
            null => Log.Level,
            "debug" => LogLevel.Debug,
            "info" => LogLevel.Info,
            "warning" or "warn" => LogLevel.Warning,
            "error" => LogLevel.Error,
            _ => throw new UsageException($"--log-level: '{level}' is not one of debug, info, warning, error"),
        };
    }
}
