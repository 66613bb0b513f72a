using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>One record of a parsed test response.</summary>
internal sealed record DnsTestRecord(string Name, ushort Type, ushort Class, uint Ttl, byte[] Data)
{
    public IpAddress Address => Type == DnsType.A ? Ipv4Address.Read(Data) : Ipv6Address.Read(Data);
}

/// <summary>A response taken apart for assertions.</summary>
internal sealed record DnsTestResponse(
    ushort Id, ushort Flags, byte ResponseCode, byte[] Question, List<DnsTestRecord> Answers, List<DnsTestRecord> Authority,
    List<DnsTestRecord> Additional, int Length)
{
    public bool Truncated => (Flags & DnsMessage.FlagTruncated) != 0;

    public bool Authoritative => (Flags & DnsMessage.FlagAuthoritative) != 0;

    public DnsTestRecord? Opt => Additional.FirstOrDefault(r => r.Type == DnsType.Opt);
}

/// <summary>Queries built for tests, and responses parsed with the server's own checked readers.</summary>
internal static class DnsTestMessages
{
    public static byte[] Query(string name, ushort type, ushort id = 0x1234, bool edns = false, ushort udpSize = 1232, ushort @class = DnsClass.Internet, ushort flags = DnsMessage.FlagRecursionDesired)
    {
        byte[] wire = DnsName.Encode(name);
        // Keep the caller's case: the server must echo the question as asked (DNS 0x20).
        var labels = name.TrimEnd('.').Split('.');
        int position = 0;
        foreach (string label in labels)
        {
            System.Text.Encoding.ASCII.GetBytes(label, wire.AsSpan(position + 1));
            position += 1 + label.Length;
        }
        byte[] query = new byte[DnsMessage.HeaderLength + wire.Length + 4 + (edns ? DnsRecord.OptLength : 0)];
        DnsMessage.WriteHeader(query, id, flags, 1, 0, 0, (ushort)(edns ? 1 : 0));
        wire.CopyTo(query, DnsMessage.HeaderLength);
        int offset = DnsMessage.HeaderLength + wire.Length;
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(offset), type);
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(offset + 2), @class);
        if (edns)
        {
            DnsRecord.WriteOpt(query, offset + 4, udpSize, 0, false);
        }
        return query;
    }

    /// <summary>A response from an upstream server to a query, with the given records (A/AAAA/TXT/SOA made by the helpers below).</summary>
    public static byte[] Upstream(byte[] query, byte responseCode, IEnumerable<byte[]> answers, IEnumerable<byte[]>? authority = null, bool opt = true, bool truncated = false)
    {
        var answerList = answers.ToList();
        var authorityList = (authority ?? []).ToList();
        var questionEnd = QuestionEnd(query);
        var message = new List<byte>();
        byte[] header = new byte[DnsMessage.HeaderLength];
        ushort flags = (ushort)(DnsMessage.FlagResponse | DnsMessage.FlagRecursionDesired | DnsMessage.FlagRecursionAvailable | responseCode
            | (truncated ? DnsMessage.FlagTruncated : 0));
        DnsMessage.WriteHeader(header, BinaryPrimitives.ReadUInt16BigEndian(query), flags, 1, (ushort)answerList.Count, (ushort)authorityList.Count, (ushort)(opt ? 1 : 0));
        message.AddRange(header);
        message.AddRange(query[DnsMessage.HeaderLength..questionEnd]);
        foreach (var record in answerList.Concat(authorityList))
        {
            message.AddRange(record);
        }
        if (opt)
        {
            byte[] optRecord = new byte[DnsRecord.OptLength];
            DnsRecord.WriteOpt(optRecord, 0, 1232, 0, false);
            message.AddRange(optRecord);
        }
        return message.ToArray();
    }

    /// <summary>A record for the question's name (a pointer to offset 12).</summary>
    public static byte[] Record(ushort type, uint ttl, byte[] data)
    {
        byte[] record = new byte[2 + DnsRecord.FixedLength + data.Length];
        DnsRecord.WriteWithPointer(record, 0, DnsName.PointerToQuestion, type, ttl, data);
        return record;
    }

    public static byte[] ARecord(string address, uint ttl)
    {
        var parsed = IpAddress.Parse(address);
        byte[] data = new byte[parsed.IsV4 ? 4 : 16];
        if (parsed.IsV4)
        {
            parsed.V4.Write(data);
        }
        else
        {
            parsed.V6.Write(data);
        }
        return Record(parsed.IsV4 ? DnsType.A : DnsType.Aaaa, ttl, data);
    }

    public static byte[] TxtRecord(string text, uint ttl)
    {
        var data = new List<byte>();
        foreach (var chunk in text.Chunk(255))
        {
            data.Add((byte)chunk.Length);
            data.AddRange(chunk.Select(c => (byte)c));
        }
        return Record(DnsType.Txt, ttl, data.ToArray());
    }

    /// <summary>An SOA for the question's name with <paramref name="minimum"/> as its MINIMUM (the negative TTL, RFC 2308 §4).</summary>
    public static byte[] SoaRecord(uint ttl, uint minimum)
    {
        var data = new List<byte>();
        data.AddRange(new byte[] { 0xC0, 0x0C, 0xC0, 0x0C });
        foreach (uint value in new uint[] { 1, 3600, 600, 86400, minimum })
        {
            byte[] field = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(field, value);
            data.AddRange(field);
        }
        return Record(DnsType.Soa, ttl, data.ToArray());
    }

    public static int QuestionEnd(byte[] message)
    {
        Assert.True(DnsRecord.TryReadQuestion(message, DnsMessage.HeaderLength, new byte[DnsName.MaxLength], out _, out _, out _, out int end));
        return end;
    }

    public static DnsTestResponse Parse(ReadOnlySpan<byte> message)
    {
        var copy = message.ToArray();
        Assert.True(DnsMessage.TryParse(copy, out var header));
        Assert.True(header.IsResponse);
        int offset = DnsMessage.HeaderLength;
        byte[] question = [];
        if (header.QuestionCount == 1)
        {
            int end = QuestionEnd(copy);
            question = copy[offset..end];
            offset = end;
        }
        var sections = new List<DnsTestRecord>[] { new(), new(), new() };
        int[] counts = [header.AnswerCount, header.AuthorityCount, header.AdditionalCount];
        byte[] name = new byte[DnsName.MaxLength];
        for (int section = 0; section < 3; section++)
        {
            for (int i = 0; i < counts[section]; i++)
            {
                Assert.True(DnsRecord.TryRead(copy, offset, out var record), $"record {i} of section {section} at {offset}");
                Assert.True(DnsName.TryRead(copy, offset, name, out _, out int nameLength));
                sections[section].Add(new DnsTestRecord(DnsName.ToText(name.AsSpan(0, nameLength)), record.Type, record.Class, record.Ttl,
                    copy[record.DataOffset..record.End]));
                offset = record.End;
            }
        }
        Assert.Equal(copy.Length, offset);
        return new DnsTestResponse(header.Id, header.Flags, header.ResponseCode, question, sections[0], sections[1], sections[2], copy.Length);
    }
}
