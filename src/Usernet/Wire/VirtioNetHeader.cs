using System.Buffers.Binary;

namespace Usernet.Wire;

// struct virtio_net_hdr (virtio 1.x §5.1.6), little-endian, before each frame on a TAP device
// opened with IFF_VNET_HDR:
//
//  0        1        2                 4                 6                 8                10
// +--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+
// | flags  |gso_type|     hdr_len     |    gso_size     |   csum_start    |   csum_offset   |
// +--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+

/// <summary>
/// The header the kernel puts before each frame of a TAP device with IFF_VNET_HDR. Usernet
/// asks for checksum offload only (TUN_F_CSUM, no TSO), so a frame from the guest arrives
/// either with complete checksums or with its transport checksum left to the receiver, as a
/// NIC's would be; this says which.
/// </summary>
internal readonly ref struct VirtioNetHeader
{
    public const int Length = 10;

    /// <summary>The transport checksum holds only the pseudo-header's sum: the sender left the rest to us.</summary>
    public const byte NeedsChecksum = 1;

    /// <summary>The sender's kernel already verified the checksums.</summary>
    public const byte DataValid = 2;

    public const byte GsoNone = 0;

    private readonly ReadOnlySpan<byte> _buffer;

    public VirtioNetHeader(ReadOnlySpan<byte> buffer) => _buffer = buffer[..Length];

    public byte Flags => _buffer[0];

    public byte GsoType => _buffer[1];

    /// <summary>With <see cref="NeedsChecksum"/>: where the checksummed bytes start, from the frame's start.</summary>
    public int ChecksumStart => BinaryPrimitives.ReadUInt16LittleEndian(_buffer[6..]);

    /// <summary>With <see cref="NeedsChecksum"/>: where the checksum field is, from <see cref="ChecksumStart"/>.</summary>
    public int ChecksumOffset => BinaryPrimitives.ReadUInt16LittleEndian(_buffer[8..]);

    /// <summary>A header that says nothing: complete checksums, no segmentation offload.</summary>
    public static void WritePlain(Span<byte> destination) => destination[..Length].Clear();

    /// <summary>
    /// A header that leaves the frame's transport checksum to the receiving kernel, as QEMU's
    /// virtio-net passes on a guest's offloaded one: the bytes from <paramref name="start"/> on
    /// are summed into the field at <paramref name="offset"/> from there. hdr_len stays 0: the
    /// kernel raises it to cover the checksum field itself.
    /// </summary>
    public static void WritePartial(Span<byte> destination, int start, int offset)
    {
        destination[..Length].Clear();
        destination[0] = NeedsChecksum;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)start);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], (ushort)offset);
    }
}
