using Usernet.Platform.Interop;

namespace Usernet.Tests.Support;

/// <summary>
/// A connected AF_UNIX stream pair: one end for the code under test, the other played by the
/// test. The test's end is non-blocking, so that a full socket never hangs a test.
/// </summary>
internal sealed unsafe class SocketPair : IDisposable
{
    private int _local;

    public SocketPair()
    {
        int* fds = stackalloc int[2];
        if (Libc.SocketPair(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0, fds) < 0)
        {
            throw Errno.Exception("socketpair");
        }
        _local = fds[0];
        Peer = fds[1];
        Libc.SetNonBlocking(Peer);
    }

    /// <summary>The test's end.</summary>
    public int Peer { get; private set; }

    /// <summary>The other end, whose owner from now on closes it.</summary>
    public int TakeLocal()
    {
        int fd = _local;
        _local = -1;
        return fd;
    }

    /// <summary>Writes what the socket takes now; returns how many bytes that was.</summary>
    public int TryWrite(ReadOnlySpan<byte> data)
    {
        fixed (byte* bytes = data)
        {
            nint n = Libc.Send(Peer, bytes, data.Length, Libc.MSG_NOSIGNAL | Libc.MSG_DONTWAIT);
            if (n < 0)
            {
                int errno = Errno.Last;
                return errno == Errno.EAGAIN ? 0 : throw Errno.Exception("send", errno);
            }
            return (int)n;
        }
    }

    /// <summary>Whatever has arrived, without waiting; null once the other end has closed.</summary>
    public byte[]? ReadAvailable()
    {
        var received = new List<byte>();
        byte[] buffer = new byte[65536];
        while (true)
        {
            nint n;
            fixed (byte* bytes = buffer)
            {
                n = Libc.Recv(Peer, bytes, buffer.Length, Libc.MSG_DONTWAIT);
            }
            if (n > 0)
            {
                received.AddRange(buffer.AsSpan(0, (int)n));
                continue;
            }
            if (n == 0)
            {
                return received.Count > 0 ? received.ToArray() : null;
            }
            int errno = Errno.Last;
            return errno == Errno.EAGAIN ? received.ToArray() : throw Errno.Exception("recv", errno);
        }
    }

    public void ClosePeer()
    {
        if (Peer >= 0)
        {
            Libc.Close(Peer);
            Peer = -1;
        }
    }

    public void Dispose()
    {
        ClosePeer();
        if (_local >= 0)
        {
            Libc.Close(_local);
            _local = -1;
        }
    }
}
