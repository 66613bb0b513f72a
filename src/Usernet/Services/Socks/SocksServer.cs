using System.Text.Json;
using Usernet.Nat;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Services.Forwarding;
using Usernet.Wire;

namespace Usernet.Services.Socks;

/// <summary>
/// A SOCKS5 server on the host (RFC 1928, with RFC 1929's user and password) into the guests'
/// networks, as Docker Desktop offers its paying users. Each client is read on the loop until
/// its request (<see cref="SocksClient"/>); a CONNECT to a destination inside
/// (<see cref="SocksDestinations"/>) then becomes a connection opened from the gateway into the
/// guest, exactly as a published port's is, carried by the same TCP engine with the same
/// backpressure (<see cref="SocksTunnel"/>). UDP ASSOCIATE and BIND are refused (07): the
/// server carries TCP only. The listener is opened during set-up, before the process is confined.
/// </summary>
internal sealed class SocksServer : IPollHandler, IDisposable
{
    private readonly EventLoop _loop;
    private readonly HashSet<SocksClient> _clients = new();
    private int _fd = -1;
    private PollRegistration _registration;

    public SocksServer(EventLoop loop, PortPublisher publisher, SocksDestinations destinations, SocksOptions options)
    {
        _loop = loop;
        Publisher = publisher;
        Destinations = destinations;
        Options = options;
    }

    public PortPublisher Publisher { get; }

    public SocksDestinations Destinations { get; }

    public SocksOptions Options { get; }

    public SocksCounters Counters { get; } = new();

    /// <summary>Where it listens, once <see cref="Listen"/> has bound.</summary>
    public IpEndpoint? Endpoint { get; private set; }

    /// <summary>Clients in their handshake and tunnels open.</summary>
    public long Active => _clients.Count + Counters.ActiveConnections;

    /// <summary>Binds and listens; throws <see cref="PublishException"/> saying why it cannot.</summary>
    public void Listen()
    {
        _fd = HostListenSocket.Bind(Options.Listen, PublishProtocol.Tcp, out int port);
        Endpoint = Options.Listen with { Port = (ushort)port };
        // Accepted clients inherit these (Nagle off, keepalive and its times), as a published
        // port's do: a tunnel's socket needs no setsockopt of its own.
        HostTcpConnector.ConfigureSocket(_fd, Publisher.Tcp.Options);
        _registration = _loop.Register(_fd, PollEvents.Readable, this);
    }

    public void OnPoll(PollEvents events, Instant now) => HostListenSocket.AcceptWaiting(_fd, Accept);

    private void Accept(int fd, IpEndpoint peer)
    {
        Counters.Accepted++;
        if (Active >= Options.MaxConnections)
        {
            // Nothing can be said before the greeting: the client sees the connection close.
            Counters.Refuse(SocksRefusal.LimitReached);
            Log.WarnLimited("socks-limit", $"SOCKS: {Options.MaxConnections} connections open (socks.maxConnections): refusing more");
            Libc.Close(fd);
            return;
        }
        var client = new SocksClient(this, _loop, fd, peer);
        _clients.Add(client);
        client.Start();
    }

    /// <summary>A client's handshake is over: refused and closed, or handed to its tunnel.</summary>
    public void Forget(SocksClient client) => _clients.Remove(client);

    public void WriteJson(Utf8JsonWriter writer)
    {
        if (Endpoint is { } endpoint)
        {
            writer.WriteString("listen", endpoint.ToString());
        }
        writer.WriteNumber("handshaking", _clients.Count);
        Counters.WriteJson(writer);
    }

    public void Dispose()
    {
        foreach (var client in _clients.ToList())
        {
            client.Close();
        }
        if (_fd >= 0)
        {
            _loop.Unregister(_registration);
            _registration = PollRegistration.None;
            Libc.Close(_fd);
            _fd = -1;
        }
    }
}
