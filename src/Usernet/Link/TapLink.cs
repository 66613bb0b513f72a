using System.Runtime.InteropServices;
using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Link;

/// <summary>
/// A TAP device (IFF_TAP | IFF_NO_PI): each read() is one frame from the guest kernel and
/// each write() injects one frame into it. The guest namespace's MTU is 65520, as pasta
/// uses, so that one frame carries up to 64 KiB and the syscall count stays low.
/// </summary>
internal sealed unsafe class TapLink : FrameLink, IPollHandler
{
    public const int TapMtu = 65520;

    /// <summary>Frames read per wake-up before the loop serves other fds.</summary>
    private const int ReadBudget = 64;

    private readonly int _fd;
    private readonly byte* _buffer;
    private EventLoop? _loop;
    private IFrameReceiver? _receiver;
    private PollRegistration _registration = PollRegistration.None;

    public TapLink(int fd, string name) : base(name, TapMtu)
    {
        _fd = fd;
        Libc.SetNonBlocking(fd);
        _buffer = (byte*)NativeMemory.Alloc(MaxFrameLength);
    }

    /// <summary>Opens (or creates, given the right) the TAP device <paramref name="name"/>.</summary>
    public static TapLink Open(string name)
    {
        int fd = TunDevice.OpenTap(name);
        return new TapLink(fd, name);
    }

    public override void Start(EventLoop loop, IFrameReceiver receiver)
    {
        _loop = loop;
        _receiver = receiver;
        _registration = loop.Register(_fd, PollEvents.Readable, this);
    }

    public void OnPoll(PollEvents events, Instant now)
    {
        for (int i = 0; i < ReadBudget; i++)
        {
            nint n = Libc.Read(_fd, _buffer, MaxFrameLength);
            if (n < 0)
            {
                int errno = Errno.Last;
                if (errno == Errno.EAGAIN || errno == Errno.EINTR)
                {
                    return;
                }
                Fail($"read: {Errno.Describe(errno)}");
                return;
            }
            if (n == 0)
            {
                Fail("device closed");
                return;
            }
            Counters.FramesIn++;
            Counters.BytesIn += n;
            _receiver!.OnFrame(this, new Span<byte>(_buffer, (int)n), now);
            if (IsClosed)
            {
                return;
            }
        }
    }

    public override void Send(ReadOnlySpan<byte> frame)
    {
        if (IsClosed)
        {
            return;
        }
        fixed (byte* data = frame)
        {
            nint n = Libc.Write(_fd, data, frame.Length);
            if (n == frame.Length)
            {
                Counters.FramesOut++;
                Counters.BytesOut += n;
                return;
            }
        }
        // EAGAIN or EIO (device down): the frame is lost, as on a real wire.
        Counters.DroppedOut++;
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
        NativeMemory.Free(_buffer);
    }
}
