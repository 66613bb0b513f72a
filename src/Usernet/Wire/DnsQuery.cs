namespace Usernet.Wire;

/// <summary>What a query from a guest is, once parsed: what its answer should be.</summary>
internal enum DnsQueryStatus
{
    /// <summary>A standard query with one well-formed question.</summary>
    Valid,

    /// <summary>Nothing to answer: shorter than a header, or a response (answering those loops).</summary>
    Ignore,

    /// <summary>FORMERR (RFC 1035 §4.1.1): no question, several, or a malformed section.</summary>
    FormatError,

    /// <summary>NOTIMP: an opcode other than QUERY.</summary>
    NotImplemented,

    /// <summary>BADVERS: an EDNS version above 0 (RFC 6891 §6.1.3).</summary>
    BadVersion,
}

/// <summary>
/// A query from a guest, checked: the header, its one question (RFC 1035 §4.1.2), and the EDNS
/// OPT record if any (RFC 6891). The question's name is also kept uncompressed and in lower
/// case, in a buffer the caller owns.
/// </summary>
internal readonly ref struct DnsQuery
{
    private DnsQuery(
        ushort id, ushort flags, ReadOnlySpan<byte> question, ReadOnlySpan<byte> name, ushort type, ushort @class,
        bool hasEdns, ushort udpPayloadSize, bool dnssecOk)
    {
        Id = id;
        Flags = flags;
        Question = question;
        Name = name;
        Type = type;
        Class = @class;
        HasEdns = hasEdns;
        UdpPayloadSize = udpPayloadSize;
        DnssecOk = dnssecOk;
    }

    public ushort Id { get; }

    public ushort Flags { get; }

    /// <summary>The question as the client wrote it (name, QTYPE, QCLASS), to echo in the answer.</summary>
    public ReadOnlySpan<byte> Question { get; }

    /// <summary>The question's name, uncompressed and in lower case.</summary>
    public ReadOnlySpan<byte> Name { get; }

    public ushort Type { get; }

    public ushort Class { get; }

    public bool HasEdns { get; }

    /// <summary>The client's UDP payload size: 512 without EDNS, and never less (RFC 6891 §6.2.5).</summary>
    public ushort UdpPayloadSize { get; }

    public bool DnssecOk { get; }

    public bool RecursionDesired => (Flags & DnsMessage.FlagRecursionDesired) != 0;

    /// <summary>
    /// Parses <paramref name="message"/>. <paramref name="nameBuffer"/> needs
    /// <see cref="DnsName.MaxLength"/> bytes. Only <see cref="DnsQueryStatus.Ignore"/> leaves
    /// <paramref name="query"/> without an ID and flags to answer with; only
    /// <see cref="DnsQueryStatus.Valid"/> and <see cref="DnsQueryStatus.BadVersion"/> give it a question.
    /// </summary>
    public static DnsQueryStatus TryParse(Span<byte> message, Span<byte> nameBuffer, out DnsQuery query)
    {
        query = default;
        if (message.Length < DnsMessage.HeaderLength)
        {
            return DnsQueryStatus.Ignore;
        }
        var header = new DnsMessage(message);
        if (header.IsResponse)
        {
            return DnsQueryStatus.Ignore;
        }
        ushort id = header.Id;
        ushort flags = header.Flags;
        query = new DnsQuery(id, flags, default, default, 0, 0, false, DnsMessage.ClassicUdpSize, false);
        if (header.Opcode != 0)
        {
            return DnsQueryStatus.NotImplemented;
        }
        if (header.QuestionCount != 1)
        {
            return DnsQueryStatus.FormatError;
        }
        int offset = DnsMessage.HeaderLength;
        if (!DnsRecord.TryReadQuestion(message, offset, nameBuffer, out int nameLength, out ushort type, out ushort @class, out int questionEnd))
        {
            return DnsQueryStatus.FormatError;
        }
        offset = questionEnd;
        // A query has no answers or authority, but skip them checked rather than trust that.
        int before = header.AnswerCount + header.AuthorityCount;
        for (int i = 0; i < before; i++)
        {
            if (!DnsRecord.TryRead(message, offset, out var skipped))
            {
                return DnsQueryStatus.FormatError;
            }
            offset = skipped.End;
        }
        bool hasEdns = false;
        ushort payloadSize = DnsMessage.ClassicUdpSize;
        bool dnssecOk = false;
        int version = 0;
        for (int i = 0; i < header.AdditionalCount; i++)
        {
            if (!DnsRecord.TryRead(message, offset, out var record))
            {
                return DnsQueryStatus.FormatError;
            }
            if (record.Type == DnsType.Opt)
            {
                // RFC 6891 §6.1.1: one OPT at most, and its name is the root.
                if (hasEdns || record.NameEnd != record.Start + 1)
                {
                    return DnsQueryStatus.FormatError;
                }
                hasEdns = true;
                payloadSize = Math.Max(record.Class, (ushort)DnsMessage.ClassicUdpSize);
                version = (int)((record.Ttl >> 16) & 0xFF);
                dnssecOk = (record.Ttl & DnsRecord.DnssecOkFlag) != 0;
            }
            offset = record.End;
        }
        query = new DnsQuery(
            id, flags, message[DnsMessage.HeaderLength..questionEnd], nameBuffer[..nameLength], type, @class,
            hasEdns, payloadSize, dnssecOk);
        return version == 0 ? DnsQueryStatus.Valid : DnsQueryStatus.BadVersion;
    }
}
