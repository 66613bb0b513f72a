using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>Makes <see cref="DnsAnswer"/>s: address records of Usernet's own, and upstream responses taken apart.</summary>
internal static class DnsAnswerBuilder
{
    /// <summary>The longest a positive answer is cached, whatever its TTL.</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromHours(1);

    /// <summary>The longest a negative answer is cached (RFC 2308 §5 suggests up to hours; a VPN joined later should not wait that long).</summary>
    public static readonly TimeSpan MaxNegativeTtl = TimeSpan.FromMinutes(5);

    private const ushort Tsig = 250;

    /// <summary>
    /// A/AAAA records of <paramref name="addresses"/> for the question's name (a pointer to it).
    /// Addresses of the other family are left out; none left is NODATA.
    /// </summary>
    public static DnsAnswer Addresses(
        IEnumerable<IpAddress> addresses, ushort type, uint ttl, DnsAnswerSource source, Instant stored, Instant expires)
    {
        bool v4 = type == DnsType.A;
        var chosen = addresses.Where(a => a.IsV4 == v4).Distinct().ToList();
        int dataLength = v4 ? 4 : 16;
        int recordLength = 2 + DnsRecord.FixedLength + dataLength;
        // At most what fits in a TCP response; a guest never needs so many.
        chosen = chosen.Take(60000 / recordLength).ToList();
        var records = new byte[chosen.Count * recordLength];
        var ttlOffsets = new int[chosen.Count];
        Span<byte> data = stackalloc byte[16];
        int offset = 0;
        for (int i = 0; i < chosen.Count; i++)
        {
            if (v4)
            {
                chosen[i].V4.Write(data);
            }
            else
            {
                chosen[i].V6.Write(data);
            }
            ttlOffsets[i] = offset + 2 + 4;
            offset = DnsRecord.WriteWithPointer(records, offset, DnsName.PointerToQuestion, type, ttl, data[..dataLength]);
        }
        return new DnsAnswer(DnsResponseCode.NoError, (ushort)chosen.Count, 0, 0, records, ttlOffsets, source, stored, expires);
    }

    /// <summary>
    /// Takes an upstream response apart: the records after its question, which is
    /// <paramref name="questionEnd"/> long with the header. Drops the OPT record (the client
    /// gets the server's own) and TSIG, and anything after them. Says until when the answer may
    /// be cached: its smallest TTL, or for a negative answer its SOA's (RFC 2308 §5);
    /// <see cref="Instant.Zero"/> when it must not be cached. Returns null for a response
    /// whose records cannot be read.
    /// </summary>
    public static DnsAnswer? FromUpstream(ReadOnlySpan<byte> response, int questionEnd, Instant now)
    {
        if (response.Length < questionEnd || questionEnd < DnsMessage.HeaderLength)
        {
            return null;
        }
        var header = new DnsMessage(response);
        byte responseCode = header.ResponseCode;
        Span<ushort> counts = [header.AnswerCount, header.AuthorityCount, header.AdditionalCount];
        // First where the kept records end: before an OPT or TSIG record, which nothing points
        // into, so dropping it with what follows it leaves every kept record where its pointers
        // expect it.
        int end = questionEnd;
        int total = 0;
        for (int offset = questionEnd; total < counts[0] + counts[1] + counts[2]; total++)
        {
            if (!DnsRecord.TryRead(response, offset, out var record))
            {
                return null;
            }
            if (record.Type is DnsType.Opt or Tsig)
            {
                break;
            }
            offset = end = record.End;
        }
        // Then the kept records again, alone: each owner name must read the same behind any
        // client's header and question, so no pointer into the header or past the end.
        var kept = response[..end];
        Span<ushort> keptCounts = stackalloc ushort[3];
        var ttlOffsets = new int[total];
        uint smallestTtl = uint.MaxValue;
        uint negativeTtl = uint.MaxValue;
        int position = questionEnd;
        for (int i = 0; i < total; i++)
        {
            int section = i < counts[0] ? 0 : i < counts[0] + counts[1] ? 1 : 2;
            if (!DnsRecord.TryRead(kept, position, out var record)
                || !DnsName.TrySkip(kept, position, out _, lowestTarget: DnsMessage.HeaderLength))
            {
                return null;
            }
            keptCounts[section]++;
            ttlOffsets[i] = record.TtlOffset - questionEnd;
            uint ttl = Math.Min(record.Ttl, int.MaxValue);
            if (section == 0)
            {
                smallestTtl = Math.Min(smallestTtl, ttl);
            }
            else if (section == 1 && record.Type == DnsType.Soa && record.DataLength >= 20)
            {
                // MINIMUM is the SOA's last field.
                uint minimum = BinaryPrimitives.ReadUInt32BigEndian(kept[(record.End - 4)..]);
                negativeTtl = Math.Min(negativeTtl, Math.Min(ttl, minimum));
            }
            position = record.End;
        }
        TimeSpan lifetime = TimeSpan.Zero;
        if (responseCode == DnsResponseCode.NoError && keptCounts[0] > 0)
        {
            lifetime = Min(TimeSpan.FromSeconds(smallestTtl), MaxTtl);
        }
        else if (responseCode is DnsResponseCode.NoError or DnsResponseCode.NameError && negativeTtl != uint.MaxValue)
        {
            lifetime = Min(TimeSpan.FromSeconds(negativeTtl), MaxNegativeTtl);
        }
        return new DnsAnswer(
            responseCode, keptCounts[0], keptCounts[1], keptCounts[2], response[questionEnd..end].ToArray(), ttlOffsets,
            DnsAnswerSource.Upstream, now, lifetime > TimeSpan.Zero ? now + lifetime : Instant.Zero);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
