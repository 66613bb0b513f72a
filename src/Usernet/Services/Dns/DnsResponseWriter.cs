using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>
/// Writes responses to guests: the client's ID and question, an answer's records with their
/// TTLs aged, and an OPT record when the client used EDNS. Writes into a buffer the caller
/// reuses, and allocates nothing. Bounded: what does not fit the limit or the buffer is left
/// out whole and the response says so with TC; and nothing at all is written (length 0) when
/// not even the header and question fit the buffer, which the resolver's buffers always do.
/// </summary>
internal static class DnsResponseWriter
{
    /// <summary>
    /// The UDP payload size the server advertises, and the most it sends over UDP whatever a
    /// client offers. The guest link is virtual, so IPv4 fragments of a large answer are not
    /// lost on the way as they can be on the internet (RFC 9715).
    /// </summary>
    public const ushort UdpPayloadSize = 4096;

    /// <summary>The most a response over TCP can be: its length prefix is 16 bits (RFC 1035 §4.2.2).</summary>
    public const int TcpLimit = 65535;

    /// <summary>
    /// Writes the response to a query with <paramref name="answer"/>, or with only the header,
    /// question and OPT and the TC bit when the whole does not fit in <paramref name="limit"/>
    /// (RFC 2181 §9: no partial RRsets; the client repeats the query over TCP).
    /// </summary>
    public static int Write(
        Span<byte> buffer, ushort id, ushort queryFlags, ReadOnlySpan<byte> question, bool edns, int limit,
        DnsAnswer answer, bool authoritative, Instant now, out bool truncated)
    {
        int optLength = edns ? DnsRecord.OptLength : 0;
        int length = DnsMessage.HeaderLength + question.Length + answer.Records.Length + optLength;
        ushort flags = (ushort)(ResponseFlags(queryFlags) | answer.ResponseCode | (authoritative ? DnsMessage.FlagAuthoritative : 0));
        ushort opt = (ushort)(edns ? 1 : 0);
        truncated = length > Math.Min(limit, buffer.Length);
        if (!Fits(buffer, question, edns))
        {
            return 0;
        }
        if (truncated)
        {
            DnsMessage.WriteHeader(buffer, id, (ushort)(flags | DnsMessage.FlagTruncated), 1, 0, 0, opt);
            int end = WriteQuestion(buffer, question);
            return edns ? DnsRecord.WriteOpt(buffer, end, UdpPayloadSize, 0, false) : end;
        }
        DnsMessage.WriteHeader(buffer, id, flags, 1, answer.AnswerCount, answer.AuthorityCount, (ushort)(answer.AdditionalCount + opt));
        int offset = WriteQuestion(buffer, question);
        var records = buffer.Slice(offset, answer.Records.Length);
        answer.Records.CopyTo(records);
        if (answer.Expires != Instant.Never)
        {
            Age(records, answer, now);
        }
        offset += records.Length;
        return edns ? DnsRecord.WriteOpt(buffer, offset, UdpPayloadSize, 0, false) : offset;
    }

    /// <summary>
    /// A response with no records: <paramref name="responseCode"/> may be an extended one
    /// (BADVERS) when the client used EDNS. <paramref name="question"/> may be empty, for a query
    /// whose question could not be read.
    /// </summary>
    public static int WriteError(Span<byte> buffer, ushort id, ushort queryFlags, ReadOnlySpan<byte> question, bool edns, int responseCode)
    {
        if (!Fits(buffer, question, edns))
        {
            return 0;
        }
        ushort flags = (ushort)(ResponseFlags(queryFlags) | (responseCode & 0xF) | (queryFlags & 0x7800));
        DnsMessage.WriteHeader(buffer, id, flags, (ushort)(question.IsEmpty ? 0 : 1), 0, 0, (ushort)(edns ? 1 : 0));
        int end = WriteQuestion(buffer, question);
        return edns ? DnsRecord.WriteOpt(buffer, end, UdpPayloadSize, responseCode, false) : end;
    }

    /// <summary>Whether the smallest response, the header, the question and the OPT record, fits <paramref name="buffer"/>.</summary>
    private static bool Fits(Span<byte> buffer, ReadOnlySpan<byte> question, bool edns) =>
        DnsMessage.HeaderLength + question.Length + (edns ? DnsRecord.OptLength : 0) <= buffer.Length;

    /// <summary>QR and RA; RD and CD copied from the query (RFC 1035 §4.1.1, RFC 4035 §3.2.2).</summary>
    private static ushort ResponseFlags(ushort queryFlags) =>
        (ushort)(DnsMessage.FlagResponse | DnsMessage.FlagRecursionAvailable
            | (queryFlags & (DnsMessage.FlagRecursionDesired | DnsMessage.FlagCheckingDisabled)));

    private static int WriteQuestion(Span<byte> buffer, ReadOnlySpan<byte> question)
    {
        question.CopyTo(buffer[DnsMessage.HeaderLength..]);
        return DnsMessage.HeaderLength + question.Length;
    }

    /// <summary>Lowers each TTL by the whole seconds the answer has been cached (RFC 1035 §7.1, RFC 2181 §8).</summary>
    private static void Age(Span<byte> records, DnsAnswer answer, Instant now)
    {
        long elapsed = Math.Max(0, (now.Nanoseconds - answer.Stored.Nanoseconds) / 1_000_000_000);
        if (elapsed == 0)
        {
            return;
        }
        foreach (int offset in answer.TtlOffsets)
        {
            uint ttl = BinaryPrimitives.ReadUInt32BigEndian(records[offset..]);
            BinaryPrimitives.WriteUInt32BigEndian(records[offset..], ttl > elapsed ? (uint)(ttl - elapsed) : 0);
        }
    }
}
