using Usernet.Nat;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Stack.Tcp;
using Usernet.Wire;

namespace Usernet.Services.Socks;

/// <summary>
/// The host socket of a SOCKS CONNECT, once its connection into the guest is opened: a
/// published port's <see cref="HostTcpSocket"/>, which carries the data, with the request's
/// reply in front. Connecting -> Open, or Failed. The reply goes out when the guest answers
/// the SYN: success on its SYN-ACK, before any of its data; "connection refused" (05) on its
/// RST; "host unreachable" (04) when it has not answered within the connect timeout.
/// </summary>
internal sealed unsafe class SocksTunnel : ITcpHostSocket
{
    private readonly SocksServer _server;
    private readonly int _fd;
    private readonly HostTcpSocket _host;
    private readonly IpEndpoint _bound;
    private readonly LoopTimer _timer;
    private TcpConnection? _connection;
    private string _destination = "";
    private bool _answered;
    private bool _timedOut;

    public SocksTunnel(SocksServer server, EventLoop loop, int fd, HostTcpSocket host, IpEndpoint bound)
    {
        _server = server;
        _fd = fd;
        _host = host;
        _bound = bound;
        _timer = loop.CreateTimer(OnConnectTimeout);
    }

    /// <summary>The connection's SYN is sent: the guest has the connect timeout to answer it.</summary>
    public void Start(TcpConnection connection, string destination, Instant now)
    {
        _connection = connection;
        _destination = destination;
        if (!_answered)
        {
            _timer.Schedule(now + _server.Options.ConnectTimeout);
        }
    }

    public void OnGuestAccepted(Instant now)
    {
        _timer.Cancel();
        _answered = true;
        _server.Counters.Connected++;
        Reply(0);
        _host.OnGuestAccepted(now);
    }

    private void OnConnectTimeout(Instant now)
    {
        if (!_answered && _connection is not null)
        {
            _timedOut = true;
            // The connection closes its host socket, which is where the reply is sent.
            _connection.Abort(Usernet.Stack.FlowEnd.Expired);
        }
    }

    public void Close(bool reset)
    {
        _timer.Cancel();
        if (!_answered)
        {
            _answered = true;
            var refusal = _timedOut ? SocksRefusal.GuestUnreachable : SocksRefusal.GuestRefused;
            _server.Counters.Refuse(refusal);
            Log.Debug($"SOCKS: {_destination} refused: {refusal}");
            Reply(Socks5Handshake.ReplyCodeOf(refusal)!.Value);
            // Closed gracefully, so that the client reads the reply rather than a reset: what it
            // sent ahead is dropped first, since a close with unread data sends RST.
            while (Libc.Recv(_fd, null, 64 * 1024, Libc.MSG_TRUNC | Libc.MSG_DONTWAIT) > 0)
            {
            }
            Libc.Shutdown(_fd, Libc.SHUT_WR);
            _host.Close(reset: false);
            return;
        }
        _host.Close(reset);
    }

    private void Reply(byte code)
    {
        Span<byte> reply = stackalloc byte[22];
        int length = Socks5Messages.WriteReply(reply, code, _bound);
        fixed (byte* bytes = reply)
        {
            // An empty send buffer takes it whole; a client gone already is found by the connection.
            Libc.Send(_fd, bytes, length, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL);
        }
    }

    public int Peek(int offset, Span<byte> destination) => _host.Peek(offset, destination);

    public bool EndsAt(int offset) => _host.EndsAt(offset);

    public void Discard(int count) => _host.Discard(count);

    public int Write(ReadOnlySpan<byte> data) => _host.Write(data);

    public int WritableSpace => _host.WritableSpace;

    public TcpHostError Error => _host.Error;

    public void ShutdownWrite() => _host.ShutdownWrite();
}
