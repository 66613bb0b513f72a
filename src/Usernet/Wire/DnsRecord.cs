using System.Buffers.Binary;

namespace Usernet.Wire;

// RFC 1035 §4.1.3 Resource record format:
//
//                                 1  1  1  1  1  1
//   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// /                      NAME                     /
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |                      TYPE                     |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |                     CLASS                     |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |                      TTL                      |
// |                                               |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |                   RDLENGTH                    |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// /                     RDATA                     /
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//
// The OPT pseudo-record of EDNS (RFC 6891 §6.1.2) has the root as NAME, the requester's UDP
// payload size as CLASS, and the extended RCODE, version and flags (DO) as TTL.

/// <summary>Where one resource record lies in a message, and its fixed fields.</summary>
internal readonly record struct DnsRecord(int Start, int NameEnd, ushort Type, ushort Class, uint Ttl, int DataLength)
{
    /// <summary>TYPE, CLASS, TTL and RDLENGTH after the name.</summary>
    public const int FixedLength = 10;

    /// <summary>An OPT record with no options: root name and the fixed part.</summary>
    public const int OptLength = 1 + FixedLength;

    /// <summary>The DO bit in the OPT record's TTL (RFC 3225 §3).</summary>
    public const uint DnssecOkFlag = 0x8000;

    public int TtlOffset => NameEnd + 4;

    public int DataOffset => NameEnd + FixedLength;

    public int End => DataOffset + DataLength;

    /// <summary>Checked read of the record at <paramref name="offset"/>: its name, fixed part and RDATA must all be in the message.</summary>
    public static bool TryRead(ReadOnlySpan<byte> message, int offset, out DnsRecord record)
    {
        record = default;
        if (!DnsName.TrySkip(message, offset, out int nameEnd) || nameEnd + FixedLength > message.Length)
        {
            return false;
        }
        var fixedPart = message[nameEnd..];
        int dataLength = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[8..]);
        if (nameEnd + FixedLength + dataLength > message.Length)
        {
            return false;
        }
        record = new DnsRecord(
            offset, nameEnd,
            BinaryPrimitives.ReadUInt16BigEndian(fixedPart),
            BinaryPrimitives.ReadUInt16BigEndian(fixedPart[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(fixedPart[4..]),
            dataLength);
        return true;
    }

    /// <summary>Reads a question (RFC 1035 §4.1.2): the name into <paramref name="lowerName"/>, then QTYPE and QCLASS.</summary>
    public static bool TryReadQuestion(
        ReadOnlySpan<byte> message, int offset, Span<byte> lowerName, out int nameLength, out ushort type, out ushort @class, out int end)
    {
        type = 0;
        @class = 0;
        end = 0;
        if (!DnsName.TryRead(message, offset, lowerName, out int nameEnd, out nameLength) || nameEnd + 4 > message.Length)
        {
            return false;
        }
        type = BinaryPrimitives.ReadUInt16BigEndian(message[nameEnd..]);
        @class = BinaryPrimitives.ReadUInt16BigEndian(message[(nameEnd + 2)..]);
        end = nameEnd + 4;
        return true;
    }

    /// <summary>Writes a record whose name is the two-byte <paramref name="namePointer"/>; returns the offset after it.</summary>
    public static int WriteWithPointer(Span<byte> buffer, int offset, ushort namePointer, ushort type, uint ttl, ReadOnlySpan<byte> data)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer[offset..], namePointer);
        return WriteFixed(buffer, offset + 2, type, DnsClass.Internet, ttl, data);
    }

    /// <summary>Writes an OPT record with no options (RFC 6891 §6.1.2); returns the offset after it.</summary>
    public static int WriteOpt(Span<byte> buffer, int offset, ushort udpPayloadSize, int extendedResponseCode, bool dnssecOk)
    {
        buffer[offset] = 0;
        // The upper 8 bits of the 12-bit RCODE; version 0.
        uint ttl = ((uint)(extendedResponseCode >> 4) << 24) | (dnssecOk ? DnssecOkFlag : 0);
        return WriteFixed(buffer, offset + 1, DnsType.Opt, udpPayloadSize, ttl, ReadOnlySpan<byte>.Empty);
    }

    private static int WriteFixed(Span<byte> buffer, int offset, ushort type, ushort @class, uint ttl, ReadOnlySpan<byte> data)
    {
        var fixedPart = buffer[offset..];
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart, type);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[2..], @class);
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart[4..], ttl);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[8..], (ushort)data.Length);
        data.CopyTo(fixedPart[FixedLength..]);
        return offset + FixedLength + data.Length;
    }
}
