using System.Net;
using System.Net.Sockets;
using Usernet.Nat;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Stack.Tcp;
using Usernet.Wire;

namespace Usernet.Tests.Nat;

/// <summary>A host TCP socket on loopback, its loop run by the test thread, whose connection throws.</summary>
public sealed class HostTcpSocketTests : IDisposable
{
    private readonly EventLoop _loop = new();
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public HostTcpSocketTests()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _loop.Dispose();
    }

    /// <summary>A connection whose handling of readable data throws, as a bug in the TCP engine would; it ends as <see cref="TcpConnection"/> does.</summary>
    private sealed class ThrowingConnection : ITcpHostEvents
    {
        public HostTcpSocket? Socket { get; set; }

        public List<TcpHostError> Failures { get; } = new();

        public void OnHostConnected(Instant now)
        {
        }

        public void OnHostConnectFailed(TcpHostError error, Instant now) => Failures.Add(error);

        public void OnHostReadable(Instant now) => throw new InvalidOperationException("a bug in the connection");

        public void OnHostWritable(Instant now)
        {
        }

        public void OnHostFailed(TcpHostError error, Instant now)
        {
            Failures.Add(error);
            Socket!.Close(reset: false);
        }
    }

    [Fact]
    public void AFaultInAConnectionsEventResetsThatConnectionBothWays()
    {
        int fd = Libc.Socket(Libc.AF_INET, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        Assert.True(fd >= 0);
        var port = (ushort)((IPEndPoint)_listener.LocalEndPoint!).Port;
        Assert.Equal(0, NativeSocketAddress.FromEndpoint(new IpEndpoint(Ipv4Address.Parse("127.0.0.1"), port)).Connect(fd));
        using var peer = _listener.Accept();
        var connection = new ThrowingConnection();
        connection.Socket = new HostTcpSocket(_loop, fd, connection, connecting: false);

        peer.Send("data the connection fails on"u8);
        for (int i = 0; i < 20 && connection.Failures.Count == 0; i++)
        {
            _loop.RunOnce(100);
        }

        Assert.Equal(1, _loop.Faults.Count("poll HostTcpSocket", nameof(InvalidOperationException)));
        // The guest hears a reset (the connection's OnHostFailed), and so does the host peer: an
        // orderly close would tell it that the stream was complete.
        Assert.Equal([TcpHostError.Reset], connection.Failures);
        peer.ReceiveTimeout = 2000;
        var error = Assert.Throws<SocketException>(() => peer.Receive(new byte[16]));
        Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
    }
    /// <summary>A connection that takes what it is told and does nothing.</summary>
    private sealed class QuietConnection : ITcpHostEvents
    {
        public void OnHostConnected(Instant now)
        {
        }

        public void OnHostConnectFailed(TcpHostError error, Instant now)
        {
        }

        public void OnHostReadable(Instant now)
        {
        }

        public void OnHostWritable(Instant now)
        {
        }

        public void OnHostFailed(TcpHostError error, Instant now)
        {
        }
    }

    private (HostTcpSocket Socket, Socket Peer) Connect()
    {
        int fd = Libc.Socket(Libc.AF_INET, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        Assert.True(fd >= 0);
        var port = (ushort)((IPEndPoint)_listener.LocalEndPoint!).Port;
        Assert.Equal(0, NativeSocketAddress.FromEndpoint(new IpEndpoint(Ipv4Address.Parse("127.0.0.1"), port)).Connect(fd));
        var peer = _listener.Accept();
        return (new HostTcpSocket(_loop, fd, new QuietConnection(), connecting: false), peer);
    }

    private int PeekWhenArrived(HostTcpSocket socket, int offset, Span<byte> destination)
    {
        for (int i = 0; i < 20; i++)
        {
            _loop.RunOnce(100);
            int n = socket.Peek(offset, destination);
            if (n != ITcpHostSocket.WouldBlock)
            {
                return n;
            }
        }
        return ITcpHostSocket.WouldBlock;
    }

    [Fact]
    public void PeeksFromTheStartThenPastBytesNotYetAcknowledgedThenAfterADiscard()
    {
        var (socket, peer) = Connect();
        using var _ = peer;
        var buffer = new byte[64];

        peer.Send("hello "u8);
        Assert.Equal(6, PeekWhenArrived(socket, 0, buffer));
        Assert.Equal("hello "u8.ToArray(), buffer[..6]);
        // Again from the start: nothing is consumed by a peek.
        Assert.Equal(6, socket.Peek(0, buffer));

        peer.Send("world"u8);
        Assert.Equal(5, PeekWhenArrived(socket, 6, buffer));
        Assert.Equal("world"u8.ToArray(), buffer[..5]);

        // The guest acknowledged the first six: what follows is at offset 0 again.
        socket.Discard(6);
        Assert.Equal(5, socket.Peek(0, buffer));
        Assert.Equal("world"u8.ToArray(), buffer[..5]);
        socket.Close(reset: false);
    }

    [Fact]
    public void AShortPeekAfterThePeersFinIsKnownToEndTheStream()
    {
        var (socket, peer) = Connect();
        using var _ = peer;
        var buffer = new byte[64];

        // Before the FIN, a short peek only found the end of what has arrived.
        peer.Send("hello "u8);
        Assert.Equal(6, PeekWhenArrived(socket, 0, buffer));
        Assert.False(socket.EndsAt(6));

        peer.Send("world"u8);
        peer.Shutdown(SocketShutdown.Send);
        for (int i = 0; i < 20 && !socket.EndsAt(11); i++)
        {
            _loop.RunOnce(100);
            Assert.Equal(5, socket.Peek(6, buffer));
        }
        Assert.True(socket.EndsAt(11));
        Assert.False(socket.EndsAt(6));
        Assert.Equal(0, socket.Peek(11, buffer));

        // The end moves back with what the guest acknowledged; a full peek says nothing of it.
        socket.Discard(6);
        Assert.True(socket.EndsAt(5));
        Assert.Equal(5, socket.Peek(0, buffer.AsSpan(0, 5)));
        socket.Close(reset: false);
        Assert.False(socket.EndsAt(5));
    }

    [Fact]
    public void WritableSpaceKeptBetweenReadsIsLessWhatWasWritten()
    {
        var (socket, peer) = Connect();
        using var _ = peer;
        _loop.RunOnce(0);
        int space = socket.WritableSpace;
        Assert.True(space > 1000, $"space {space}");

        // Under an eighth of it: no new read, the kept value less what was written.
        Assert.Equal(100, socket.Write(new byte[100]));
        _loop.RunOnce(0);
        Assert.Equal(space - 100, socket.WritableSpace);

        // Past an eighth: read again, which counts at most seven eighths of what is queued (and
        // the peer's kernel may have acknowledged it all), so never as little as the kept value.
        int more = space / 8;
        Assert.Equal(more, socket.Write(new byte[more]));
        _loop.RunOnce(0);
        int reread = socket.WritableSpace;
        Assert.True(reread >= space - (100 + more) * 7 / 8 - 8, $"space {space}, then {reread}");
        socket.Close(reset: false);
    }
}
