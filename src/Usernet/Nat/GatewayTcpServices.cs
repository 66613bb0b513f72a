using System.Net.Sockets;
using Usernet.Platform.Interop;
using Usernet.Wire;

namespace Usernet.Nat;

/// <summary>
/// Usernet's own TCP services on the gateway address (DNS over TCP, the HTTP proxy). A guest
/// connection to one is carried like any other, but its "host socket" is one end of a unix
/// socket pair whose other end the service gets as an ordinary connected socket. Services are
/// therefore plain socket servers, and they are on no host interface: only guests reach them.
/// With the socket each gets a <see cref="GuestConnection"/>, through which it can reset the
/// guest's connection.
/// </summary>
internal sealed class GatewayTcpServices
{
    private readonly Dictionary<ushort, Action<Socket, GuestConnection>> _services = new();

    /// <summary>Adds a service; <paramref name="accept"/> runs on the thread pool and owns the socket.</summary>
    public void Add(ushort port, Action<Socket, GuestConnection> accept) => _services[port] = accept;

    public bool Serves(ushort port) => _services.ContainsKey(port);

    /// <summary>Makes the pair, hands one end to the service, and returns the other; -1 when it cannot.</summary>
    public int Open(ushort port, GuestConnection connection) =>
        _services.TryGetValue(port, out var accept) ? OpenPair(accept, connection, $"the gateway's port {port}") : -1;

    /// <summary>
    /// Makes a pair for any service (the transparent proxy uses it too): <paramref name="accept"/>
    /// gets one end and <paramref name="connection"/> on the thread pool; the other end is
    /// returned, or -1. The caller attaches its host socket to <paramref name="connection"/>.
    /// </summary>
    public unsafe int OpenPair(Action<Socket, GuestConnection> accept, GuestConnection connection, string what)
    {
        int* fds = stackalloc int[2];
        // Only our end is non-blocking: the service's is an ordinary socket, for sync or async use.
        if (Libc.SocketPair(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0, fds) < 0)
        {
            Log.WarnLimited("gateway-pair", $"cannot serve {what}: {Errno.Describe(Errno.Last)}");
            return -1;
        }
        int ours = fds[0];
        Libc.SetNonBlocking(ours);
        var theirs = new Socket(new SafeSocketHandle(fds[1], ownsHandle: true));
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            try
            {
                accept(theirs, connection);
            }
            catch (Exception e)
            {
                Log.Error($"{what} failed: {e}");
                theirs.Dispose();
            }
        }, null);
        return ours;
    }
}
