using System.Buffers.Binary;

namespace Usernet.Wire;

// RFC 1035 §4.1.1 Header section format (AD and CD from RFC 4035 §3.2):
//
//                                 1  1  1  1  1  1
//   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |                      ID                       |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |                    QDCOUNT                    |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |                    ANCOUNT                    |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |                    NSCOUNT                    |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
// |                    ARCOUNT                    |
// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//
// Then the question, answer, authority and additional sections.

/// <summary>Record types (RFC 1035 §3.2.2 and later), as far as Usernet names them.</summary>
internal static class DnsType
{
    public const ushort A = 1;
    public const ushort Ns = 2;
    public const ushort Cname = 5;
    public const ushort Soa = 6;
    public const ushort Ptr = 12;
    public const ushort Mx = 15;
    public const ushort Txt = 16;
    public const ushort Aaaa = 28;
    public const ushort Srv = 33;
    public const ushort Opt = 41;
    public const ushort Https = 65;
    public const ushort Ixfr = 251;
    public const ushort Axfr = 252;
    public const ushort Any = 255;
    public const ushort Caa = 257;
}

internal static class DnsClass
{
    public const ushort Internet = 1;
}

/// <summary>RCODE values (RFC 1035 §4.1.1; BADVERS is EDNS's extended RCODE 16, RFC 6891 §9).</summary>
internal static class DnsResponseCode
{
    public const byte NoError = 0;
    public const byte FormatError = 1;
    public const byte ServerFailure = 2;
    public const byte NameError = 3;
    public const byte NotImplemented = 4;
    public const byte Refused = 5;
    public const int BadVersion = 16;
}

/// <summary>
/// A read-only view over a DNS message: the header, with the sections after it in
/// <see cref="Buffer"/>. Messages are written whole by <see cref="WriteHeader"/> and the
/// record writers, so the view needs no setters, and it wraps received bytes as they are.
/// </summary>
internal readonly ref struct DnsMessage
{
    private static class Field
    {
        public const int Id = 0;
        public const int Flags = 2;
        public const int QuestionCount = 4;
        public const int AnswerCount = 6;
        public const int AuthorityCount = 8;
        public const int AdditionalCount = 10;
    }

    public const int HeaderLength = 12;

    /// <summary>The largest message over UDP without EDNS (RFC 1035 §2.3.4).</summary>
    public const int ClassicUdpSize = 512;

    public const ushort FlagResponse = 0x8000;
    public const ushort FlagAuthoritative = 0x0400;
    public const ushort FlagTruncated = 0x0200;
    public const ushort FlagRecursionDesired = 0x0100;
    public const ushort FlagRecursionAvailable = 0x0080;
    public const ushort FlagAuthenticData = 0x0020;
    public const ushort FlagCheckingDisabled = 0x0010;

    private readonly ReadOnlySpan<byte> _buffer;

    /// <summary>Unchecked wrap: <paramref name="buffer"/> must hold a header (<see cref="HeaderLength"/> bytes).</summary>
    public DnsMessage(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>Checked wrap: only that the header is there. Sections are parsed by their readers.</summary>
    public static bool TryParse(ReadOnlySpan<byte> buffer, out DnsMessage message)
    {
        message = new DnsMessage(buffer);
        return buffer.Length >= HeaderLength;
    }

    public ReadOnlySpan<byte> Buffer => _buffer;

    public ushort Id => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Id..]);

    public ushort Flags => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Flags..]);

    public bool IsResponse => (Flags & FlagResponse) != 0;

    public int Opcode => (Flags >> 11) & 0xF;

    public bool Truncated => (Flags & FlagTruncated) != 0;

    public bool RecursionDesired => (Flags & FlagRecursionDesired) != 0;

    /// <summary>The header's 4-bit RCODE; EDNS extends it in the OPT record (RFC 6891 §6.1.3).</summary>
    public byte ResponseCode => (byte)(Flags & 0xF);

    public ushort QuestionCount => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.QuestionCount..]);

    public ushort AnswerCount => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.AnswerCount..]);

    public ushort AuthorityCount => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.AuthorityCount..]);

    public ushort AdditionalCount => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.AdditionalCount..]);

    /// <summary>Writes a whole header.</summary>
    public static void WriteHeader(
        Span<byte> buffer, ushort id, ushort flags, ushort questions, ushort answers, ushort authorities, ushort additionals)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.Id..], id);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.Flags..], flags);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.QuestionCount..], questions);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.AnswerCount..], answers);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.AuthorityCount..], authorities);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.AdditionalCount..], additionals);
    }
}
