using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Wire;

namespace Usernet.Link;

/// <summary>
/// QEMU's stream framing over a connected socket (unix, TCP, or an inherited fd): each
/// frame is preceded by its length as a 4-byte big-endian number. This is what
/// <c>-netdev stream</c> and <c>-netdev socket</c> speak. Outgoing frames are batched in a
/// bounded buffer and written once per loop batch.
/// </summary>
internal sealed unsafe class StreamLink : FrameLink, IPollHandler
{
    private const int LengthPrefix = 4;
    private const int ReceiveCapacity = 256 * 1024;

    /// <summary>Bytes queued towards the guest before further frames are dropped.</summary>
    private const int SendCapacity = 2 * 1024 * 1024;

    private readonly int _fd;
    private readonly byte* _receive;
    private readonly byte* _send;
    private int _receiveLength;
    private int _sendStart;
    private int _sendEnd;
    private bool _waitingWritable;
    private EventLoop? _loop;
    private IFrameReceiver? _receiver;
    private PollRegistration _registration = PollRegistration.None;

    public StreamLink(int fd, string description) : base(description, EthernetFrame.StandardMtu)
    {
        _fd = fd;
        Libc.SetNonBlocking(fd);
        _receive = (byte*)NativeMemory.Alloc(ReceiveCapacity);
        _send = (byte*)NativeMemory.Alloc(SendCapacity);
    }

    public override void Start(EventLoop loop, IFrameReceiver receiver)
    {
        _loop = loop;
        _receiver = receiver;
        _registration = loop.Register(_fd, PollEvents.Readable | PollEvents.ReadHangUp, this);
    }

    public void OnPoll(PollEvents events, Instant now)
    {
        if ((events & PollEvents.Writable) != 0)
        {
            Flush();
            if (IsClosed)
            {
                return;
            }
        }
        if ((events & (PollEvents.Readable | PollEvents.HangUp | PollEvents.Error | PollEvents.ReadHangUp)) != 0)
        {
            ReadFrames(now);
        }
    }

    private void ReadFrames(Instant now)
    {
        // Bounded per wake-up so that one busy VM cannot starve the other fds.
        for (int round = 0; round < 16; round++)
        {
            nint n = Libc.Read(_fd, _receive + _receiveLength, ReceiveCapacity - _receiveLength);
            if (n < 0)
            {
                int errno = Errno.Last;
                if (errno is Errno.EAGAIN or Errno.EINTR)
                {
                    return;
                }
                Fail($"read: {Errno.Describe(errno)}");
                return;
            }
            if (n == 0)
            {
                Fail("the peer closed the connection");
                return;
            }
            _receiveLength += (int)n;
            if (!DeliverComplete(now))
            {
                return;
            }
        }
    }

    /// <summary>Hands every complete frame to the receiver and keeps the partial rest.</summary>
    private bool DeliverComplete(Instant now)
    {
        int offset = 0;
        while (_receiveLength - offset >= LengthPrefix)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(_receive + offset, LengthPrefix));
            if (length > MaxFrameLength)
            {
                // The framing is lost for good: nothing after this can be trusted.
                Counters.ErrorsIn++;
                Fail($"frame length {length} exceeds {MaxFrameLength}: not QEMU stream framing");
                return false;
            }
            if (_receiveLength - offset - LengthPrefix < length)
            {
                break;
            }
            Counters.FramesIn++;
            Counters.BytesIn += length;
            _receiver!.OnFrame(this, new Span<byte>(_receive + offset + LengthPrefix, (int)length), now);
            if (IsClosed)
            {
                return false;
            }
            offset += LengthPrefix + (int)length;
        }
        if (offset > 0)
        {
            Buffer.MemoryCopy(_receive + offset, _receive, ReceiveCapacity, _receiveLength - offset);
            _receiveLength -= offset;
        }
        return true;
    }

    public override void Send(ReadOnlySpan<byte> frame)
    {
        if (IsClosed)
        {
            return;
        }
        int needed = LengthPrefix + frame.Length;
        if (SendCapacity - _sendEnd < needed && _sendStart > 0)
        {
            Buffer.MemoryCopy(_send + _sendStart, _send, SendCapacity, _sendEnd - _sendStart);
            _sendEnd -= _sendStart;
            _sendStart = 0;
        }
        if (SendCapacity - _sendEnd < needed)
        {
            Counters.DroppedOut++;
            return;
        }
        var destination = new Span<byte>(_send + _sendEnd, needed);
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)frame.Length);
        frame.CopyTo(destination[LengthPrefix..]);
        _sendEnd += needed;
        Counters.FramesOut++;
        Counters.BytesOut += frame.Length;
    }

    public override void Flush()
    {
        while (!IsClosed && _sendEnd > _sendStart)
        {
            nint n = Libc.Send(_fd, _send + _sendStart, _sendEnd - _sendStart, Libc.MSG_NOSIGNAL | Libc.MSG_DONTWAIT);
            if (n < 0)
            {
                int errno = Errno.Last;
                if (errno == Errno.EINTR)
                {
                    continue;
                }
                if (errno == Errno.EAGAIN)
                {
                    SetWaitingWritable(true);
                    return;
                }
                Fail($"write: {Errno.Describe(errno)}");
                return;
            }
            _sendStart += (int)n;
        }
        _sendStart = 0;
        _sendEnd = 0;
        SetWaitingWritable(false);
    }

    private void SetWaitingWritable(bool waiting)
    {
        if (waiting == _waitingWritable || _loop is null)
        {
            return;
        }
        _waitingWritable = waiting;
        var events = PollEvents.Readable | PollEvents.ReadHangUp | (waiting ? PollEvents.Writable : PollEvents.None);
        _loop.Modify(_registration, events);
    }

    private void Fail(string reason)
    {
        var receiver = _receiver;
        Dispose();
        receiver?.OnLinkClosed(this, reason);
    }

    protected override void Close()
    {
        _loop?.Unregister(_registration);
        Libc.Close(_fd);
        NativeMemory.Free(_receive);
        NativeMemory.Free(_send);
    }
}
