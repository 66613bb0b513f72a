using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Stack.Tcp;
using Usernet.Wire;

namespace Usernet.Nat;

/// <summary>
/// Opens the host sockets of guest connections: non-blocking connects from this process, so
/// the host's routes, VPN and firewall decide where they go, exactly as for the host's own
/// programs.
/// </summary>
internal sealed class HostTcpConnector : ITcpHostConnector
{
    private readonly EventLoop _loop;
    private readonly TcpOptions _options;
    private readonly IpAddress[] _gateway;

    /// <param name="gateway">The gateway's addresses (IPv4, IPv6, link-local): connections to them go to Usernet's own services.</param>
    public HostTcpConnector(EventLoop loop, TcpOptions options, params IpAddress[] gateway)
    {
        _loop = loop;
        _options = options;
        _gateway = gateway;
    }

    public GatewayTcpServices GatewayServices { get; } = new();

    public bool ServesGatewayPort(ushort port) => GatewayServices.Serves(port);

    /// <summary>
    /// Asked, on the loop thread, for each new guest connection that is not to the gateway:
    /// a service that takes the connection instead of a direct host socket (the transparent
    /// proxy), or null for the ordinary direct connect.
    /// </summary>
    public Func<TcpFlowKey, IpEndpoint, Action<System.Net.Sockets.Socket, GuestConnection>?>? Divert { get; set; }

    public ITcpHostSocket? Connect(TcpFlowKey flow, IpEndpoint destination, ITcpHostEvents events, out TcpHostError error)
    {
        error = TcpHostError.None;
        if (Array.IndexOf(_gateway, destination.Address) >= 0)
        {
            var connection = new GuestConnection(_loop, flow.Guest);
            int ours = GatewayServices.Open(destination.Port, connection);
            if (ours < 0)
            {
                error = TcpHostError.Refused;
                return null;
            }
            return AttachPair(ours, connection, events);
        }
        if (Divert?.Invoke(flow, destination) is { } service)
        {
            var connection = new GuestConnection(_loop, flow.Guest);
            int pair = GatewayServices.OpenPair(service, connection, $"the transparent proxy for {flow.Remote}");
            if (pair >= 0)
            {
                return AttachPair(pair, connection, events);
            }
        }
        int domain = destination.Address.IsV4 ? Libc.AF_INET : Libc.AF_INET6;
        int fd = Libc.Socket(domain, Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd >= 0 && domain == Libc.AF_INET6)
        {
            Libc.SetSockOptInt(fd, Libc.IPPROTO_IPV6, Libc.IPV6_V6ONLY, 1);
        }
        if (fd < 0)
        {
            error = TcpHostError.Other;
            Log.WarnLimited("tcp-socket", $"cannot open a host socket: {Errno.Describe(Errno.Last)}");
            return null;
        }
        ConfigureSocket(fd, _options);
        var address = NativeSocketAddress.FromEndpoint(destination);
        if (address.Connect(fd) < 0)
        {
            int errno = Errno.Last;
            if (errno != Errno.EINPROGRESS)
            {
                Libc.Close(fd);
                error = Classify(errno);
                return null;
            }
        }
        return new HostTcpSocket(_loop, fd, events, connecting: true);
    }

    /// <summary>The stack's end of a service's socket pair: connected already, so the first writable edge reports it.</summary>
    private HostTcpSocket AttachPair(int fd, GuestConnection connection, ITcpHostEvents events)
    {
        var socket = new HostTcpSocket(_loop, fd, events, connecting: true);
        connection.Attach(socket);
        return socket;
    }

    /// <summary>
    /// The options every host TCP socket of a guest connection gets, connected or accepted
    /// (through its listener, from which an accepted socket inherits them). No
    /// Nagle: the guest's kernel already coalesced what its programs wrote, and a second delay
    /// here would only add latency. Keepalive finds a host peer that vanished.
    /// </summary>
    public static void ConfigureSocket(int fd, TcpOptions options)
    {
        Libc.SetSockOptInt(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, 1);
        Libc.SetSockOptInt(fd, Libc.SOL_SOCKET, Libc.SO_KEEPALIVE, 1);
        Libc.SetSockOptInt(fd, Libc.IPPROTO_TCP, Libc.TCP_KEEPIDLE, Math.Max(1, (int)options.KeepaliveIdle.TotalSeconds));
        Libc.SetSockOptInt(fd, Libc.IPPROTO_TCP, Libc.TCP_KEEPINTVL, Math.Max(1, (int)options.KeepaliveInterval.TotalSeconds));
        Libc.SetSockOptInt(fd, Libc.IPPROTO_TCP, Libc.TCP_KEEPCNT, options.KeepaliveCount);
    }

    public static TcpHostError Classify(int errno) => errno switch
    {
        Errno.ECONNREFUSED => TcpHostError.Refused,
        Errno.ENETUNREACH or Errno.ENETDOWN => TcpHostError.NetUnreachable,
        Errno.EHOSTUNREACH or Errno.EHOSTDOWN => TcpHostError.HostUnreachable,
        Errno.ETIMEDOUT => TcpHostError.TimedOut,
        Errno.ECONNRESET or Errno.EPIPE or Errno.ECONNABORTED => TcpHostError.Reset,
        _ => TcpHostError.Other,
    };
}
