using Usernet.Nat;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Services.Forwarding;
using Usernet.Wire;

namespace Usernet.Services.Socks;

/// <summary>
/// One SOCKS client until its request is decided. The socket is registered edge-triggered and
/// only peeked: a message is taken from it (received) once it is whole, so bytes the client
/// sends ahead of the reply stay in the socket for the guest, and a message that arrives in
/// pieces wakes the loop once per piece rather than on every turn.
/// </summary>
internal sealed unsafe class SocksClient : IPollHandler
{
    /// <summary>Room for the longest greeting, user/password request and request together.</summary>
    private const int PeekLength = 257 + 513 + Socks5Messages.MaxRequestLength;

    /// <summary>Shared: the loop reads one client at a time.</summary>
    private static readonly byte[] PeekBuffer = GC.AllocateArray<byte>(PeekLength, pinned: true);

    private readonly SocksServer _server;
    private readonly EventLoop _loop;
    private readonly IpEndpoint _peer;
    private readonly Socks5Handshake _handshake;
    private readonly LoopTimer _timer;
    private int _fd;
    private PollRegistration _registration;

    public SocksClient(SocksServer server, EventLoop loop, int fd, IpEndpoint peer)
    {
        _server = server;
        _loop = loop;
        _fd = fd;
        _peer = peer;
        _handshake = new Socks5Handshake(server.Options.Credentials, loop.Now + server.Options.HandshakeTimeout);
        _timer = loop.CreateTimer(OnDeadline);
    }

    public void Start()
    {
        _registration = _loop.Register(_fd, PollEvents.Readable | PollEvents.ReadHangUp | (PollEvents)Libc.EPOLLET, this);
        // Edge-triggered: epoll reports what arrived before the registration as its first edge.
        _timer.Schedule(_handshake.Deadline);
    }

    public void OnPoll(PollEvents events, Instant now)
    {
        if (_fd < 0)
        {
            return;
        }
        nint n;
        fixed (byte* buffer = PeekBuffer)
        {
            n = Libc.Recv(_fd, buffer, PeekLength, Libc.MSG_PEEK | Libc.MSG_DONTWAIT);
        }
        if (n < 0)
        {
            if (Errno.Last is not (Errno.EAGAIN or Errno.EINTR))
            {
                Abandon();
            }
            return;
        }
        if (n == 0)
        {
            Abandon();
            return;
        }
        Span<byte> reply = stackalloc byte[8];
        var outcome = _handshake.Advance(PeekBuffer.AsSpan(0, (int)n), reply, out int consumed, out int replyLength);
        Take(consumed);
        if (replyLength > 0 && !Send(reply[..replyLength]))
        {
            Abandon();
            return;
        }
        switch (outcome)
        {
            case Socks5HandshakeOutcome.Refused:
                Refuse(_handshake.Refusal);
                return;
            case Socks5HandshakeOutcome.Request:
                Decide(now);
                return;
        }
        if (n == PeekLength || (events & (PollEvents.ReadHangUp | PollEvents.HangUp | PollEvents.Error)) != 0)
        {
            // More than any handshake needs and still not whole, or the client's side is shut: it cannot finish.
            Abandon();
        }
    }

    /// <summary>The request is read: connect into the guest, or refuse with the reply that says why.</summary>
    private void Decide(Instant now)
    {
        if (_handshake.Command != Socks5Messages.CommandConnect)
        {
            if (_handshake.Command == Socks5Messages.CommandUdpAssociate)
            {
                Log.Info($"SOCKS: {_peer} asked for UDP ASSOCIATE, which this server does not carry (TCP CONNECT only): refused with 07");
            }
            Refuse(SocksRefusal.UnsupportedCommand);
            return;
        }
        IpAddress address;
        if (_handshake.Address is { } given)
        {
            address = given;
            if (!_server.Destinations.IsInside(address))
            {
                Refuse(SocksRefusal.NotAllowed);
                return;
            }
        }
        else if (_server.Destinations.Resolve(_handshake.Name!, out address) is not SocksRefusal.None and var refusal)
        {
            Refuse(refusal);
            return;
        }
        var publisher = _server.Publisher;
        var tcp = publisher.Tcp;
        var guest = new IpEndpoint(address, _handshake.Port);
        var remote = publisher.RemoteFor(_peer, address, PublishProtocol.Tcp, guest);
        // From here the socket is the tunnel's: its handshake registration ends first.
        _loop.Unregister(_registration);
        _registration = PollRegistration.None;
        _timer.Cancel();
        SocksTunnel? tunnel = null;
        var connection = tcp.OpenToGuest(guest, remote, events =>
        {
            var host = new HostTcpSocket(_loop, _fd, events, connecting: false) { Counters = _server.Counters };
            return tunnel = new SocksTunnel(_server, _loop, _fd, host, remote);
        }, now);
        if (connection is null)
        {
            Refuse(tcp.InboundCount >= tcp.Options.MaxInboundConnections ? SocksRefusal.LimitReached : SocksRefusal.GuestUnreachable);
            return;
        }
        _server.Counters.ActiveConnections++;
        _fd = -1;
        _server.Forget(this);
        tunnel!.Start(connection, _handshake.Destination, now);
    }

    private void OnDeadline(Instant now)
    {
        if (_fd >= 0 && _handshake.HasExpired(now))
        {
            _handshake.Fail(SocksRefusal.TimedOut);
            Refuse(SocksRefusal.TimedOut);
        }
    }

    /// <summary>Counts the refusal, sends the request's reply where one is due, and closes.</summary>
    private void Refuse(SocksRefusal refusal)
    {
        if (_handshake.State != Socks5HandshakeState.Refused)
        {
            _handshake.Fail(refusal);
        }
        _server.Counters.Refuse(refusal);
        Log.Debug($"SOCKS: {_peer} refused: {refusal}");
        if (_handshake.RequestReplyDue && Socks5Handshake.ReplyCodeOf(refusal) is { } code)
        {
            Span<byte> reply = stackalloc byte[22];
            Send(reply[..Socks5Messages.WriteReply(reply, code, new IpEndpoint(Ipv4Address.Any, 0))]);
        }
        Close();
    }

    private void Abandon()
    {
        _server.Counters.Abandoned++;
        Close();
    }

    /// <summary>
    /// Closes so that the client reads what was sent: what it sent and we did not read is
    /// dropped first, since closing a socket with unread data sends RST, which can overtake the reply.
    /// </summary>
    public void Close()
    {
        _timer.Cancel();
        _server.Forget(this);
        if (_fd < 0)
        {
            return;
        }
        if (_registration.IsRegistered)
        {
            _loop.Unregister(_registration);
            _registration = PollRegistration.None;
        }
        while (Libc.Recv(_fd, null, 64 * 1024, Libc.MSG_TRUNC | Libc.MSG_DONTWAIT) > 0)
        {
        }
        Libc.Shutdown(_fd, Libc.SHUT_WR);
        Libc.Close(_fd);
        _fd = -1;
    }

    /// <summary>Takes the messages read out of the socket.</summary>
    private void Take(int count)
    {
        if (count > 0)
        {
            Libc.Recv(_fd, null, count, Libc.MSG_TRUNC | Libc.MSG_DONTWAIT);
        }
    }

    /// <summary>Sends a reply whole; a handshake reply is a few bytes, which an empty send buffer always takes.</summary>
    private bool Send(ReadOnlySpan<byte> data)
    {
        fixed (byte* bytes = data)
        {
            return Libc.Send(_fd, bytes, data.Length, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL) == data.Length;
        }
    }
}
