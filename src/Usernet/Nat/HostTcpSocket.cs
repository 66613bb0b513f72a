using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Stack.Tcp;

namespace Usernet.Nat;

/// <summary>
/// A host TCP socket carrying one guest connection. It is registered edge-triggered: data
/// stays in the socket until the guest acknowledges it, so a level-triggered read event would
/// fire again and again for bytes already sent. Reads peek at an offset with SO_PEEK_OFF
/// (Linux 6.10 and later), turned on by the first peek past offset 0, so that a connection
/// whose every peek starts at the unacknowledged edge (request and response) never pays its
/// setsockopt; on older kernels the offset is skipped by peeking it into a scratch buffer.
/// </summary>
internal sealed unsafe class HostTcpSocket : ITcpHostSocket, IPollHandler
{
    /// <summary>For kernels without SO_PEEK_OFF: where already-sent bytes are peeked to be skipped.</summary>
    private static readonly byte[] SkipBuffer = GC.AllocateArray<byte>(64 * 1024, pinned: true);

    private readonly EventLoop _loop;
    private readonly ITcpHostEvents _events;
    private int _fd;
    private PollRegistration _registration;
    private bool _connecting;

    /// <summary>Whether SO_PEEK_OFF failed on this socket (an older kernel's TCP): offsets are then skipped by copying.</summary>
    private bool _peekOffsetUnsupported;

    /// <summary>The socket's SO_PEEK_OFF: -1 while not turned on, when a peek starts at offset 0.</summary>
    private int _kernelPeekOffset = -1;
    private bool _discardByCopy;
    private int _sendBuffer;
    private int _sendBufferAge;
    private int _writableSpace;
    private int _writtenSinceSpaceRead;
    private bool _hangUpSeen;

    /// <summary>
    /// Where the last short peek since the last readable edge ended (-1: none). Before the peer's
    /// FIN, the end of what has arrived; after it, the end of the stream.
    /// </summary>
    private int _shortPeekEnd = -1;
    private Instant _writableSpaceReadAt;
    private bool _writableSpaceKnown;

    public HostTcpSocket(EventLoop loop, int fd, ITcpHostEvents events, bool connecting)
    {
        _loop = loop;
        _fd = fd;
        _events = events;
        _connecting = connecting;
        _registration = loop.Register(fd, PollEvents.Readable | PollEvents.Writable | PollEvents.ReadHangUp | (PollEvents)Libc.EPOLLET, this);
    }

    public TcpHostError Error { get; private set; }

    /// <summary>Bytes read from and written to the host side, for a published port's counters.</summary>
    public HostTrafficCounters? Counters { get; set; }

    public void OnPoll(PollEvents events, Instant now)
    {
        if (_connecting)
        {
            if ((events & (PollEvents.Writable | PollEvents.Error | PollEvents.HangUp)) == 0)
            {
                return;
            }
            int error = SocketError();
            if (error != 0)
            {
                Error = HostTcpConnector.Classify(error);
                _events.OnHostConnectFailed(Error, now);
                return;
            }
            _connecting = false;
            _events.OnHostConnected(now);
            if (_fd < 0 || (events & (PollEvents.Readable | PollEvents.ReadHangUp)) == 0)
            {
                return;
            }
        }
        if ((events & PollEvents.Error) != 0)
        {
            int error = SocketError();
            if (error != 0)
            {
                Error = HostTcpConnector.Classify(error);
                _events.OnHostFailed(Error, now);
                return;
            }
        }
        if ((events & (PollEvents.Readable | PollEvents.ReadHangUp | PollEvents.HangUp)) != 0)
        {
            _hangUpSeen |= (events & (PollEvents.ReadHangUp | PollEvents.HangUp)) != 0;
            _shortPeekEnd = -1;
            _events.OnHostReadable(now);
        }
        if (_fd >= 0 && (events & PollEvents.Writable) != 0)
        {
            if (_writableSpace < _sendBuffer / 2)
            {
                // Space may have opened by more than the kept value leaves out (see WritableSpace).
                _writableSpaceKnown = false;
            }
            _events.OnHostWritable(now);
        }
    }

    /// <summary>
    /// The gateway service at the other end of this socket pair asked for the guest's connection
    /// to be reset (see <see cref="GuestConnection"/>): reported as the peer's reset, which the
    /// connection turns into RST to the guest (or a refused SYN, before the SYN-ACK).
    /// </summary>
    public void ResetFromService(Instant now) => Reset(now);

    /// <summary>
    /// An event of this socket faulted, and may have left the connection half-updated: it ends
    /// with a reset both ways, since either side may have missed bytes (an orderly close would
    /// tell the host peer that it had them all). The other connections go on.
    /// </summary>
    public void OnFault(Instant now)
    {
        if (_fd >= 0)
        {
            SetZeroLinger();
        }
        Reset(now);
    }

    private void Reset(Instant now)
    {
        if (_fd < 0)
        {
            return;
        }
        Error = TcpHostError.Reset;
        if (_connecting)
        {
            _connecting = false;
            _events.OnHostConnectFailed(Error, now);
        }
        else
        {
            _events.OnHostFailed(Error, now);
        }
    }

    /// <summary>
    /// Peeks at the data after <paramref name="offset"/>. A peek that came back short found
    /// the end of what has arrived, and any later arrival is a new edge on the edge-triggered
    /// registration; so until that edge, a peek past that end is answered without a system
    /// call (it used to be an EAGAIN for every burst sent to the guest). Not once the peer's
    /// FIN may be queued: only a peek shows end of stream, and it brings no further edge. A short
    /// peek after the FIN has reached that end instead (see <see cref="EndsAt"/>).
    /// </summary>
    public int Peek(int offset, Span<byte> destination)
    {
        if (_fd < 0)
        {
            return ITcpHostSocket.Failed;
        }
        if (!_hangUpSeen && _shortPeekEnd >= 0 && offset >= _shortPeekEnd)
        {
            return ITcpHostSocket.WouldBlock;
        }
        nint n;
        if (offset == 0 && _kernelPeekOffset < 0)
        {
            // Without SO_PEEK_OFF a peek starts at the first unread byte, which is offset 0.
            fixed (byte* data = destination)
            {
                n = Libc.Recv(_fd, data, destination.Length, Libc.MSG_PEEK | Libc.MSG_DONTWAIT);
            }
        }
        else if (!_peekOffsetUnsupported && SetPeekOffset(offset))
        {
            fixed (byte* data = destination)
            {
                n = Libc.Recv(_fd, data, destination.Length, Libc.MSG_PEEK | Libc.MSG_DONTWAIT);
            }
            if (n > 0)
            {
                _kernelPeekOffset += (int)n;
            }
        }
        else
        {
            n = PeekSkipping(offset, destination);
        }
        if (n >= 0)
        {
            if (n > 0 && n < destination.Length)
            {
                _shortPeekEnd = offset + (int)n;
            }
            return (int)n;
        }
        return ReadFailure();
    }

    public bool EndsAt(int offset) => _fd >= 0 && _hangUpSeen && offset == _shortPeekEnd;

    /// <summary>Points the socket's SO_PEEK_OFF at <paramref name="offset"/>; false where the kernel has none for TCP.</summary>
    private bool SetPeekOffset(int offset)
    {
        if (offset == _kernelPeekOffset)
        {
            return true;
        }
        if (Libc.SetSockOptInt(_fd, Libc.SOL_SOCKET, Libc.SO_PEEK_OFF, offset) != 0)
        {
            _peekOffsetUnsupported = true;
            return false;
        }
        _kernelPeekOffset = offset;
        return true;
    }

    /// <summary>Peeks past <paramref name="offset"/> bytes by reading them into the shared skip buffer.</summary>
    private nint PeekSkipping(int offset, Span<byte> destination)
    {
        int chunks = (offset + SkipBuffer.Length - 1) / SkipBuffer.Length;
        var iov = stackalloc Libc.IoVec[chunks + 1];
        fixed (byte* skip = SkipBuffer)
        fixed (byte* data = destination)
        {
            int remaining = offset;
            for (int i = 0; i < chunks; i++)
            {
                int length = Math.Min(remaining, SkipBuffer.Length);
                iov[i] = new Libc.IoVec { Base = skip, Length = (nuint)length };
                remaining -= length;
            }
            iov[chunks] = new Libc.IoVec { Base = data, Length = (nuint)destination.Length };
            var message = new Libc.MsgHdr { Iov = iov, IovLength = (nuint)(chunks + 1) };
            nint n = Libc.RecvMsg(_fd, &message, Libc.MSG_PEEK | Libc.MSG_DONTWAIT);
            if (n < 0)
            {
                return n;
            }
            if (n == 0)
            {
                return 0;
            }
            // Data up to the offset only: nothing new yet.
            if (n <= offset)
            {
                return -1;
            }
            return n - offset;
        }
    }

    private int ReadFailure()
    {
        int errno = Errno.Last;
        if (errno is Errno.EAGAIN or Errno.EINTR)
        {
            return ITcpHostSocket.WouldBlock;
        }
        Error = HostTcpConnector.Classify(errno);
        return ITcpHostSocket.Failed;
    }

    public void Discard(int count)
    {
        while (count > 0 && _fd >= 0)
        {
            nint n;
            if (_discardByCopy)
            {
                fixed (byte* skip = SkipBuffer)
                {
                    n = Libc.Recv(_fd, skip, Math.Min(count, SkipBuffer.Length), Libc.MSG_DONTWAIT);
                }
            }
            else
            {
                // MSG_TRUNC on a TCP socket drops the bytes without copying them anywhere.
                n = Libc.Recv(_fd, null, count, Libc.MSG_TRUNC | Libc.MSG_DONTWAIT);
                if (n < 0 && Errno.Last == Errno.EFAULT)
                {
                    // Not TCP (a gateway service's socket pair): drop them by reading them.
                    _discardByCopy = true;
                    continue;
                }
            }
            if (n <= 0)
            {
                return;
            }
            count -= (int)n;
            if (_kernelPeekOffset >= 0)
            {
                // The kernel moves SO_PEEK_OFF back by what is read.
                _kernelPeekOffset = Math.Max(0, _kernelPeekOffset - (int)n);
            }
            if (_shortPeekEnd >= 0)
            {
                _shortPeekEnd = Math.Max(0, _shortPeekEnd - (int)n);
            }
            if (Counters is not null)
            {
                Counters.BytesToGuest += n;
            }
        }
    }

    public int Write(ReadOnlySpan<byte> data)
    {
        if (_fd < 0)
        {
            return ITcpHostSocket.Failed;
        }
        fixed (byte* bytes = data)
        {
            nint n = Libc.Send(_fd, bytes, data.Length, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL);
            if (n >= 0)
            {
                _writtenSinceSpaceRead += (int)n;
                if (n < data.Length)
                {
                    // The kernel counts the buffer in its own units: full for it, so the kept value is no longer a bound.
                    _writableSpaceKnown = false;
                }
                if (Counters is not null)
                {
                    Counters.BytesFromGuest += n;
                }
                return (int)n;
            }
        }
        int errno = Errno.Last;
        if (errno is Errno.EAGAIN or Errno.EINTR)
        {
            _writableSpaceKnown = false;
            return 0;
        }
        Error = HostTcpConnector.Classify(errno);
        return ITcpHostSocket.Failed;
    }

    /// <summary>
    /// The send buffer's size (autotuned by the kernel, so re-read now and then) less what is
    /// queued, with an eighth kept back for the kernel's per-segment overhead. Every segment
    /// to the guest carries a window, and reading it (SIOCOUTQ) was a system call for each:
    /// two per request/response round trip. So a value read is kept, less what has been
    /// written since: meanwhile the queue only drains, so the kept value errs small. It is read
    /// again once what has been written since is an eighth of it (so the
    /// window offered is never more than an eighth short), and on a writable event once it is
    /// under half the buffer (space freed by the host peer's acknowledgments may be what the
    /// guest waits for, its window being small).
    /// </summary>
    public int WritableSpace
    {
        get
        {
            if (_fd < 0)
            {
                return 0;
            }
            if (_writableSpaceKnown
                && ((_writableSpaceReadAt == _loop.Now && _writtenSinceSpaceRead == 0) || _writtenSinceSpaceRead < _writableSpace / 8))
            {
                return Math.Max(0, _writableSpace - _writtenSinceSpaceRead);
            }
            if (--_sendBufferAge <= 0)
            {
                Libc.GetSockOptInt(_fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF, out _sendBuffer);
                _sendBufferAge = 16;
            }
            int queued;
            if (Libc.Ioctl(_fd, Libc.SIOCOUTQ, &queued) < 0)
            {
                return 0;
            }
            _writableSpace = Math.Max(0, (_sendBuffer - queued) / 8 * 7);
            _writtenSinceSpaceRead = 0;
            _writableSpaceReadAt = _loop.Now;
            _writableSpaceKnown = true;
            return _writableSpace;
        }
    }

    /// <summary>A published port's client is connected already: nothing to tell it.</summary>
    public void OnGuestAccepted(Instant now)
    {
    }

    public void ShutdownWrite()
    {
        if (_fd >= 0)
        {
            Libc.Shutdown(_fd, Libc.SHUT_WR);
        }
    }

    public void Close(bool reset)
    {
        if (_fd < 0)
        {
            return;
        }
        if (reset)
        {
            // As the guest's RST asked.
            SetZeroLinger();
        }
        _loop.Unregister(_registration, closing: true);
        _registration = PollRegistration.None;
        Libc.Close(_fd);
        _fd = -1;
        if (Counters is not null)
        {
            Counters.ActiveConnections--;
        }
    }

    /// <summary>Zero linger: close sends RST instead of FIN.</summary>
    private void SetZeroLinger()
    {
        var linger = new Libc.Linger { OnOff = 1, Seconds = 0 };
        Libc.SetSockOpt(_fd, Libc.SOL_SOCKET, Libc.SO_LINGER, &linger, sizeof(Libc.Linger));
    }

    private int SocketError()
    {
        Libc.GetSockOptInt(_fd, Libc.SOL_SOCKET, Libc.SO_ERROR, out int error);
        return error;
    }
}
