using Usernet.Services.Dhcp;
using Usernet.Stack;

namespace Usernet.Cli;

/// <summary>The options that map onto settings keys, shared by run and serve.</summary>
internal static class SettingsOptions
{
    public static CommandLine AddTo(CommandLine line) => line
        .Option("--settings", "FILE", "read settings from FILE instead of ~/.config/usernet/settings.json")
        .Option("--set", "KEY=VALUE", "override one settings key (repeatable)", repeatable: true)
        .Option("--subnet", "CIDR", "the guests' IPv4 subnet (vpnkitCIDR, default 192.168.65.0/24)")
        .Option("--mtu", "N", "MTU towards the guests (default 65520 on TAP, 1500 on VM links)")
        .Option("--log-level", "LEVEL", "debug, info, warning (default) or error");

    /// <summary>Builds the instance from defaults and flags. (Settings files arrive with the config model.)</summary>
    public static InstanceOptions Resolve(CommandLine line, string defaultName, int linkMtu)
    {
        ApplyLogLevel(line.Value("--log-level"));
        var stack = new StackOptions();
        if (line.Value("--mtu") is { } mtuText)
        {
            if (!int.TryParse(mtuText, out int mtu) || mtu is < 576 or > 65520)
            {
                throw new UsageException($"--mtu: '{mtuText}' is not an MTU between 576 and 65520");
            }
            stack = stack with { Mtu = mtu };
        }
        _ = linkMtu;
        var dhcp = new DhcpServerOptions
        {
            ServerAddress = stack.Gateway,
            Router = stack.Gateway,
            PrefixLength = stack.PrefixLength,
            DnsServers = [stack.Gateway],
        };
        return new InstanceOptions
        {
            Name = line.Value("--instance") ?? defaultName,
            Stack = stack,
            Dhcp = dhcp,
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
