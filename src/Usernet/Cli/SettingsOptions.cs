using Usernet.Config;
using Usernet.Services.Dhcp;
using Usernet.Services.Dns;
using Usernet.Stack;
using Usernet.Stack.Tcp;

namespace Usernet.Cli;

/// <summary>The options that map onto settings keys, shared by run, serve and config.</summary>
internal static class SettingsOptions
{
    /// <summary>Flags that are shorthands for one settings key.</summary>
    private static readonly (string Flag, string Key, string ValueName, string Help)[] KeyFlags =
    [
        ("--subnet", "vpnkitCIDR", "CIDR", "the guests' IPv4 subnet (vpnkitCIDR, default 192.168.65.0/24)"),
        ("--mtu", "network.mtu", "N", "MTU towards the guests (default 65520 on TAP, 1500 on VM links)"),
    ];

    public static CommandLine AddTo(CommandLine line)
    {
        line.Option("--settings", "FILE", "read settings from FILE instead of ~/.config/usernet/settings.json")
            .Option("--set", "KEY=VALUE", "set any settings key, as in settings.json (repeatable)", repeatable: true);
        foreach (var (flag, _, valueName, help) in KeyFlags)
        {
            line.Option(flag, valueName, help);
        }
        return line.Option("--log-level", "LEVEL", "debug, info, warning (default) or error");
    }

    /// <summary>Loads the settings: defaults, admin-settings.json, settings.json, then these flags.</summary>
    public static Settings Load(CommandLine line)
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
        var result = SettingsLoader.LoadFromSystem(SettingsPaths.FromEnvironment(line.Value("--settings")), overrides);
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

    /// <summary>Builds what an instance runs with from the settings.</summary>
    public static InstanceOptions Resolve(CommandLine line, string defaultName)
    {
        var settings = Load(line);
        var network = settings.Network;
        var stack = new StackOptions
        {
            Subnet = network.Subnet,
            Gateway = network.GatewayIp,
            Host = network.HostIp,
            FirstGuest = network.FirstGuestIp,
            Mtu = network.Mtu,
            Fragments = new ReassemblyLimits(settings.Fragments.MaxDatagrams, 256, settings.Fragments.Timeout),
        };
        var search = settings.Dns.SearchDomains ?? ResolvConf.Read(settings.Dns.ResolvConf).SearchDomains;
        var dhcp = new DhcpServerOptions
        {
            ServerAddress = network.GatewayIp,
            Router = network.GatewayIp,
            PrefixLength = network.Subnet.PrefixLength,
            DnsServers = [network.GatewayIp],
            SearchDomains = search,
            LeaseTime = settings.Dhcp.LeaseTime,
        };
        return new InstanceOptions
        {
            Name = line.Value("--instance") ?? defaultName,
            Settings = settings,
            Stack = stack,
            Dhcp = dhcp,
            Dns = DnsServerOptions.FromSettings(settings),
            MaxLeases = settings.Dhcp.MaxLeases,
            Tcp = new TcpOptions
            {
                MaxConnections = settings.Tcp.MaxConnections,
                ConnectTimeout = settings.Tcp.ConnectTimeout,
                KeepaliveIdle = settings.Tcp.KeepaliveIdle,
                KeepaliveInterval = settings.Tcp.KeepaliveInterval,
                KeepaliveCount = settings.Tcp.KeepaliveCount,
                HostLoopback = network.HostLoopback,
            },
            PcapPath = line.Value("--pcap"),
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
