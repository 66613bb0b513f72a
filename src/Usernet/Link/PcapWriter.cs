using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Link;

/// <summary>
/// Writes frames in the classic libpcap format (LINKTYPE_ETHERNET), which tshark, tcpdump
/// and Wireshark read. Timestamps are wall-clock microseconds. A capture holds every guest's
/// traffic, so the file is the user's alone (0600, never through a symbolic link or into a
/// file of someone else's). Capturing serves the links and never stops them: when the file
/// reaches its size limit or a write fails, capturing stops for good, the reason is logged
/// once, and the frames that went by uncaptured are counted. What was written stays a valid
/// capture: whole records only.
/// Capturing -> Stopped (limit reached, or write failed).
/// </summary>
internal sealed class PcapWriter : IDisposable
{
    private const uint Magic = 0xA1B2C3D4;
    private const int SnapLength = 262144;
    private const int LinkTypeEthernet = 1;
    private const int HeaderLength = 24;
    private const int RecordHeaderLength = 16;

    private readonly string _path;
    private readonly long _limit;
    private readonly byte[] _recordHeader = new byte[RecordHeaderLength];
    private FileStream? _stream;

    private PcapWriter(string path, FileStream stream, long limit)
    {
        _path = path;
        _stream = stream;
        _limit = limit;
    }

    /// <summary>Frames written.</summary>
    public long Frames { get; private set; }

    /// <summary>Bytes written, headers included: the file's size.</summary>
    public long Bytes { get; private set; }

    /// <summary>Frames that went by after capturing stopped.</summary>
    public long NotCaptured { get; private set; }

    /// <summary>Why capturing stopped; null while it goes on.</summary>
    public string? StoppedBecause { get; private set; }

    /// <summary>
    /// Creates (or empties) <paramref name="path"/>, mode 0600, writing at most
    /// <paramref name="limit"/> bytes (null: no limit). An existing file is reused only when it
    /// is a regular file of this user with no other link; an <see cref="IOException"/> says why not.
    /// </summary>
    public static PcapWriter Create(string path, long? limit = null)
    {
        if (limit is < HeaderLength)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), $"a capture needs at least {HeaderLength} bytes");
        }
        // No O_TRUNC: an existing file is emptied only once it is known to be ours.
        int fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0x180);
        if (fd < 0)
        {
            int errno = Errno.Last;
            throw new IOException($"cannot write the capture {path}: {(errno == Errno.ELOOP ? "it is a symbolic link" : Errno.Describe(errno))}");
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (Problem(fd) is { } problem)
            {
                throw new IOException($"cannot write the capture {path}: {problem}; remove it or choose another file");
            }
            if (Libc.Ftruncate(fd, 0) != 0 || Libc.Fchmod(fd, 0x180) != 0)
            {
                throw new IOException($"cannot write the capture {path}: {Errno.Describe(Errno.Last)}");
            }
            var writer = new PcapWriter(path, new FileStream(handle, FileAccess.Write, 1 << 16), limit ?? long.MaxValue);
            writer.WriteFileHeader();
            return writer;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static string? Problem(int fd)
    {
        if (!FileStatus.TryOfFd(fd, out var status, out int errno))
        {
            return Errno.Describe(errno);
        }
        int uid = Libc.GetEUid();
        return status switch
        {
            { IsRegular: false } => "it is not a regular file",
            _ when status.Owner != uid => $"it belongs to uid {status.Owner}",
            { Links: > 1 } => "it has other hard links",
            _ => null,
        };
    }

    private void WriteFileHeader()
    {
        Span<byte> header = stackalloc byte[HeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LinkTypeEthernet);
        _stream!.Write(header);
        Bytes = HeaderLength;
    }

    public void Write(ReadOnlySpan<byte> frame)
    {
        if (_stream is null)
        {
            NotCaptured++;
            return;
        }
        int captured = Math.Min(frame.Length, SnapLength);
        if (Bytes + RecordHeaderLength + captured > _limit)
        {
            NotCaptured++;
            Stop($"it reached its size limit of {_limit} bytes");
            return;
        }
        long micros = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader, (uint)(micros / 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(4), (uint)(micros % 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(8), (uint)captured);
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(12), (uint)frame.Length);
        try
        {
            _stream.Write(_recordHeader);
            _stream.Write(frame[..captured]);
        }
        catch (IOException e)
        {
            NotCaptured++;
            Stop($"writing it failed: {e.Message}");
            return;
        }
        Frames++;
        Bytes += RecordHeaderLength + captured;
    }

    public void Flush()
    {
        try
        {
            _stream?.Flush();
        }
        catch (IOException e)
        {
            Stop($"writing it failed: {e.Message}");
        }
    }

    private void Stop(string reason)
    {
        var stream = _stream;
        _stream = null;
        StoppedBecause = reason;
        Log.Warn($"capture {_path} stopped: {reason}; the links go on uncaptured");
        try
        {
            stream?.Dispose();
        }
        catch (IOException)
        {
            // What did not reach the file is lost either way; the frames are counted.
        }
    }

    /// <summary>Writes the counters reported into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteString("file", _path);
        writer.WriteNumber("frames", Frames);
        writer.WriteNumber("bytes", Bytes);
        writer.WriteNumber("notCaptured", NotCaptured);
        writer.WriteString("stopped", StoppedBecause);
    }

    public void Dispose()
    {
        try
        {
            _stream?.Dispose();
        }
        catch (IOException)
        {
        }
        _stream = null;
    }
}
