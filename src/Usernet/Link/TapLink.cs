using System.Runtime.InteropServices;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Wire;

namespace Usernet.Link;

/// <summary>
/// A TAP device opened by <see cref="TunDevice.OpenTap"/> (IFF_TAP | IFF_NO_PI |
/// IFF_VNET_HDR): each read() is one frame from the guest kernel behind a
/// <see cref="VirtioNetHeader"/>, and each write() injects one frame into it, behind a plain
/// one, or behind one that leaves the transport checksum to the guest's kernel
/// (<see cref="SendPartial"/>). The guest namespace's MTU is 65520, as pasta uses, so that one
/// frame carries up to 64 KiB and the syscall count stays low.
/// </summary>
internal sealed unsafe class TapLink : FrameLink, IPollHandler
{
    public const int TapMtu = 65520;

    /// <summary>Frames read per wake-up before the loop serves other fds.</summary>
    private const int ReadBudget = 64;

    private readonly int _fd;
    private readonly byte* _buffer;
    private readonly byte* _plainHeader;
    private readonly byte* _partialHeader;
    private EventLoop? _loop;
    private IFrameReceiver? _receiver;
    private PollRegistration _registration = PollRegistration.None;

    public TapLink(int fd, string name) : base(name, TapMtu)
    {
        _fd = fd;
        Libc.SetNonBlocking(fd);
        _buffer = (byte*)NativeMemory.Alloc(VirtioNetHeader.Length + MaxFrameLength);
        _plainHeader = (byte*)NativeMemory.Alloc(VirtioNetHeader.Length);
        VirtioNetHeader.WritePlain(new Span<byte>(_plainHeader, VirtioNetHeader.Length));
        _partialHeader = (byte*)NativeMemory.Alloc(VirtioNetHeader.Length);
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
            nint n = Libc.Read(_fd, _buffer, VirtioNetHeader.Length + MaxFrameLength);
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
            if (n < VirtioNetHeader.Length)
            {
                Counters.ErrorsIn++;
                continue;
            }
            var header = new VirtioNetHeader(new ReadOnlySpan<byte>(_buffer, VirtioNetHeader.Length));
            if (header.GsoType != VirtioNetHeader.GsoNone)
            {
                // Never asked for (no TSO offload is set), so never expected.
                Counters.ErrorsIn++;
                continue;
            }
            int length = (int)n - VirtioNetHeader.Length;
            Counters.FramesIn++;
            Counters.BytesIn += length;
            _receiver!.OnFrame(this, new Span<byte>(_buffer + VirtioNetHeader.Length, length), now, ChecksumOf(header));
            if (IsClosed)
            {
                return;
            }
        }
    }

    private static ReceivedChecksum ChecksumOf(VirtioNetHeader header)
    {
        if ((header.Flags & VirtioNetHeader.NeedsChecksum) != 0)
        {
            return new ReceivedChecksum(ReceivedChecksumState.Partial, header.ChecksumStart, header.ChecksumOffset);
        }
        return (header.Flags & VirtioNetHeader.DataValid) != 0 ? new ReceivedChecksum(ReceivedChecksumState.Valid) : default;
    }

    public override void Send(ReadOnlySpan<byte> frame) => Write(_plainHeader, frame);

    /// <summary>
    /// The guest's kernel takes a partial checksum as a NIC's offloaded one (CHECKSUM_PARTIAL):
    /// it delivers the segment without summing it, and completes the sum only if the packet
    /// leaves through a device that needs it.
    /// </summary>
    public override bool TakesPartialChecksums => true;

    public override void SendPartial(ReadOnlySpan<byte> frame, PartialChecksum checksum)
    {
        VirtioNetHeader.WritePartial(new Span<byte>(_partialHeader, VirtioNetHeader.Length), checksum.Start, checksum.Offset);
        Write(_partialHeader, frame);
    }

    private void Write(byte* header, ReadOnlySpan<byte> frame)
    {
        if (IsClosed)
        {
            return;
        }
        fixed (byte* data = frame)
        {
            // The header goes in front without copying the frame.
            var iov = stackalloc Libc.IoVec[2];
            iov[0] = new Libc.IoVec { Base = header, Length = VirtioNetHeader.Length };
            iov[1] = new Libc.IoVec { Base = data, Length = (nuint)frame.Length };
            nint n = Libc.Writev(_fd, iov, 2);
            if (n == VirtioNetHeader.Length + frame.Length)
            {
                Counters.FramesOut++;
                Counters.BytesOut += frame.Length;
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
        NativeMemory.Free(_plainHeader);
        NativeMemory.Free(_partialHeader);
    }
}
