using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Nat;

/// <summary>
/// Opens the host sockets of guest UDP and ping flows. Ping goes through unprivileged ICMP
/// sockets where the host's net.ipv4.ping_group_range allows this process's group; otherwise
/// through one raw socket if the process may open one (root, CAP_NET_RAW); otherwise not at all,
/// and the reason is kept to be told once.
/// </summary>
internal sealed class HostDatagramFactory : IHostDatagramFactory
{
    private readonly EventLoop _loop;
    private readonly bool _pingSockets;
    private readonly RawIcmpChannel? _raw;
    private readonly RawIcmpChannel? _raw6;

    public HostDatagramFactory(EventLoop loop)
    {
        _loop = loop;
        _pingSockets = CanOpen(Libc.SOCK_DGRAM);
        if (!_pingSockets)
        {
            _raw = RawIcmpChannel.TryOpen(loop, v6: false);
            _raw6 = RawIcmpChannel.TryOpen(loop, v6: true);
            if (_raw is null)
            {
                PingUnavailableReason =
                    $"the host allows neither unprivileged ICMP sockets (net.ipv4.ping_group_range is \"{ReadPingGroupRange()}\", " +
                    $"which does not include group {Libc.GetGid()}) nor raw sockets (this process lacks CAP_NET_RAW). " +
                    "Widen net.ipv4.ping_group_range to allow it.";
            }
        }
    }

    public string? PingUnavailableReason { get; }

    /// <summary>"ping sockets", "raw socket" or "unavailable": for stats and logs.</summary>
    public string PingMode => _pingSockets ? "ping sockets" : _raw is not null ? "raw socket" : "unavailable";

    public IHostDatagramSocket? OpenUdp(IpAddress family, IHostDatagramEvents events) =>
        HostDatagramSocket.Open(_loop, family, events);

    public IHostDatagramSocket? OpenPing(IpAddress family, IHostDatagramEvents events)
    {
        if (_pingSockets)
        {
            return HostDatagramSocket.Open(_loop, family, events, ping: true);
        }
        return family.IsV4 ? _raw?.Open(events) : _raw6?.Open(events);
    }

    private static bool CanOpen(int type)
    {
        int fd = Libc.Socket(Libc.AF_INET, type | Libc.SOCK_CLOEXEC, Libc.IPPROTO_ICMP);
        if (fd < 0)
        {
            return false;
        }
        Libc.Close(fd);
        return true;
    }

    private static string ReadPingGroupRange()
    {
        try
        {
            return File.ReadAllText("/proc/sys/net/ipv4/ping_group_range").Trim().Replace('\t', ' ');
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
