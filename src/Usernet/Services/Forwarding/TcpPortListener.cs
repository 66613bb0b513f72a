using Usernet.Nat;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Stack.Tcp;
using Usernet.Wire;

namespace Usernet.Services.Forwarding;

/// <summary>
/// The host end of a published TCP port: each accepted client becomes a connection into the
/// guest, opened with our SYN and carried by the same TCP engine as the guest's own connections
/// (half-close, resets, flow control). The accepted socket is the connection's host socket.
/// </summary>
internal sealed class TcpPortListener : IPollHandler, IDisposable
{
    private readonly int _fd;
    private readonly EventLoop _loop;
    private readonly PortPublisher _publisher;
    private readonly Publish _publish;
    private PollRegistration _registration;

    public TcpPortListener(int fd, EventLoop loop, PortPublisher publisher, Publish publish)
    {
        _fd = fd;
        _loop = loop;
        _publisher = publisher;
        _publish = publish;
        // An accepted socket inherits these from its listener (Nagle off, keepalive and its
        // times), so that each client costs no setsockopt: five per connection before.
        HostTcpConnector.ConfigureSocket(fd, publisher.Tcp.Options);
        _registration = loop.Register(fd, PollEvents.Readable, this);
    }

    public void OnPoll(PollEvents events, Instant now) => HostListenSocket.AcceptWaiting(_fd, (fd, client) => Accept(fd, client, now));

    private void Accept(int fd, IpEndpoint client, Instant now)
    {
        var remote = _publisher.RemoteFor(client, _publish.Guest.Address, PublishProtocol.Tcp, _publish.Guest);
        var counters = _publish.Counters;
        var connection = _publisher.Tcp.OpenToGuest(_publish.Guest, remote,
            events => new HostTcpSocket(_loop, fd, events, connecting: false) { Counters = counters }, now);
        if (connection is null)
        {
            counters.Refused++;
            Libc.Close(fd);
            return;
        }
        counters.Connections++;
        counters.ActiveConnections++;
    }

    public void Dispose()
    {
        _loop.Unregister(_registration);
        _registration = PollRegistration.None;
        Libc.Close(_fd);
    }
}
