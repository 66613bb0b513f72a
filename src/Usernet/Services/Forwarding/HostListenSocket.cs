using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Wire;

namespace Usernet.Services.Forwarding;

/// <summary>Binding the host side of a published port, with errors that say what to do.</summary>
internal static class HostListenSocket
{
    /// <summary>Opens and binds a socket for <paramref name="endpoint"/>; a port of 0 lets the kernel choose.</summary>
    public static int Bind(IpEndpoint endpoint, PublishProtocol protocol, out int boundPort)
    {
        bool v4 = endpoint.Address.IsV4;
        int type = protocol == PublishProtocol.Tcp ? Libc.SOCK_STREAM : Libc.SOCK_DGRAM;
        int fd = Libc.Socket(v4 ? Libc.AF_INET : Libc.AF_INET6, type | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new PublishException($"cannot open a socket: {Errno.Describe(Errno.Last)}");
        }
        if (!v4)
        {
            Libc.SetSockOptInt(fd, Libc.IPPROTO_IPV6, Libc.IPV6_V6ONLY, 1);
        }
        if (protocol == PublishProtocol.Tcp)
        {
            Libc.SetSockOptInt(fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1);
        }
        var address = NativeSocketAddress.FromEndpoint(endpoint);
        if (address.Bind(fd) < 0 || (protocol == PublishProtocol.Tcp && Libc.Listen(fd, 1024) < 0))
        {
            int errno = Errno.Last;
            Libc.Close(fd);
            throw new PublishException(Explain(errno, endpoint, protocol), addressInUse: errno == Errno.EADDRINUSE);
        }
        boundPort = NativeSocketAddress.LocalOf(fd).ToEndpoint().Port;
        return fd;
    }

    /// <summary>
    /// Accepts the clients waiting on <paramref name="listenFd"/>, at most 64 a wake-up so that
    /// a flood of them does not hold the loop, each non-blocking and close-on-exec.
    /// </summary>
    public static void AcceptWaiting(int listenFd, Action<int, IpEndpoint> accepted)
    {
        for (int i = 0; i < 64; i++)
        {
            var peer = new NativeSocketAddress();
            int fd = peer.Accept(listenFd, Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC);
            if (fd < 0)
            {
                return;
            }
            accepted(fd, peer.ToEndpoint());
        }
    }

    private static string Explain(int errno, IpEndpoint endpoint, PublishProtocol protocol)
    {
        string what = $"port {endpoint.Port}{(protocol == PublishProtocol.Udp ? "/udp" : "")}";
        switch (errno)
        {
            case Errno.EADDRINUSE:
                string? holder = PortHolder.Describe(endpoint.Port, protocol);
                return holder is null ? $"{what} is already in use" : $"{what} is already in use by {holder}";
            case Errno.EACCES or Errno.EPERM:
                string start = ReadUnprivilegedPortStart();
                return $"{what} is privileged: binding it needs root or CAP_NET_BIND_SERVICE " +
                    $"(net.ipv4.ip_unprivileged_port_start is {start})";
            case Errno.EADDRNOTAVAIL:
                return $"{endpoint.Address} is not an address of this host";
            default:
                return $"cannot bind {endpoint}: {Errno.Describe(errno)}";
        }
    }

    private static string ReadUnprivilegedPortStart()
    {
        try
        {
            return File.ReadAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
