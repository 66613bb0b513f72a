using System.Buffers.Binary;

namespace Usernet.Wire;

// RFC 768 User Datagram Header Format:
//
//  0      7 8     15 16    23 24    31
// +--------+--------+--------+--------+
// |     Source      |   Destination   |
// |      Port       |      Port       |
// +--------+--------+--------+--------+
// |                 |                 |
// |     Length      |    Checksum     |
// +--------+--------+--------+--------+
// |          data octets ...

/// <summary>A view over a UDP datagram, header and payload.</summary>
internal readonly ref struct UdpDatagram
{
    private static class Field
    {
        public const int SourcePort = 0;
        public const int DestinationPort = 2;
        public const int Length = 4;
        public const int Checksum = 6;
    }

    public const int HeaderLength = 8;

    private readonly Span<byte> _buffer;

    public UdpDatagram(Span<byte> buffer) => _buffer = buffer;

    /// <summary>
    /// Checked wrap for guest input: the Length field must cover the header and fit the
    /// buffer. The view is cut to Length. The checksum is checked by the caller, which knows
    /// the pseudo-header.
    /// </summary>
    public static bool TryParse(Span<byte> buffer, out UdpDatagram datagram)
    {
        datagram = default;
        if (buffer.Length < HeaderLength)
        {
            return false;
        }
        int length = BinaryPrimitives.ReadUInt16BigEndian(buffer[Field.Length..]);
        if (length < HeaderLength || length > buffer.Length)
        {
            return false;
        }
        datagram = new UdpDatagram(buffer[..length]);
        return true;
    }

    public Span<byte> Buffer => _buffer;

    public ushort SourcePort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.SourcePort..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.SourcePort..], value);
    }

    public ushort DestinationPort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.DestinationPort..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.DestinationPort..], value);
    }

    public int Length
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Length..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.Length..], (ushort)value);
    }

    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Checksum..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.Checksum..], value);
    }

    public Span<byte> Payload => _buffer[HeaderLength..Length];

    /// <summary>
    /// Verifies against <paramref name="pseudoHeaderSum"/>. Over IPv4 a zero checksum means
    /// "not computed" (RFC 768) and passes; over IPv6 it is invalid (RFC 8200 §8.1).
    /// </summary>
    public bool VerifyChecksum(ulong pseudoHeaderSum, bool isIpv6)
    {
        if (Checksum == 0)
        {
            return !isIpv6;
        }
        return InternetChecksum.IsValid(InternetChecksum.Add(pseudoHeaderSum, _buffer[..Length]));
    }

    /// <summary>Fills the checksum; a computed zero is sent as all ones (RFC 768).</summary>
    public void FillChecksum(ulong pseudoHeaderSum)
    {
        Checksum = 0;
        ushort checksum = InternetChecksum.Finish(InternetChecksum.Add(pseudoHeaderSum, _buffer[..Length]));
        Checksum = checksum == 0 ? (ushort)0xFFFF : checksum;
    }

    /// <summary>Writes the header for a payload already in place after it; fills no checksum.</summary>
    public static void WriteHeader(Span<byte> buffer, ushort sourcePort, ushort destinationPort, int payloadLength)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.SourcePort..], sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.DestinationPort..], destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.Length..], (ushort)(HeaderLength + payloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.Checksum..], 0);
    }
}
