using System.Buffers.Binary;

namespace Usernet.Link;

/// <summary>
/// Writes frames in the classic libpcap format (LINKTYPE_ETHERNET), which tshark, tcpdump
/// and Wireshark read. Timestamps are wall-clock microseconds.
/// </summary>
internal sealed class PcapWriter : IDisposable
{
    private const uint Magic = 0xA1B2C3D4;
    private const int SnapLength = 262144;
    private const int LinkTypeEthernet = 1;

    private readonly FileStream _stream;
    private readonly byte[] _recordHeader = new byte[16];

    public PcapWriter(string path)
    {
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LinkTypeEthernet);
        _stream.Write(header);
    }

    public void Write(ReadOnlySpan<byte> frame)
    {
        long micros = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        int captured = Math.Min(frame.Length, SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader, (uint)(micros / 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(4), (uint)(micros % 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(8), (uint)captured);
        BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(12), (uint)frame.Length);
        _stream.Write(_recordHeader);
        _stream.Write(frame[..captured]);
    }

    public void Flush() => _stream.Flush();

    public void Dispose() => _stream.Dispose();
}
