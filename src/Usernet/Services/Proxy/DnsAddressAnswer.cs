using System.Net;
using Usernet.Wire;

namespace Usernet.Services.Proxy;

/// <summary>The question's name and the A and AAAA records of a DNS response, every length checked.</summary>
internal static class DnsAddressAnswer
{
    /// <summary>False when the response is too short or its question cannot be read.</summary>
    public static bool TryRead(ReadOnlySpan<byte> response, out string name, out byte responseCode, out List<IPAddress> addresses)
    {
        bool read = TryReadWithTtls(response, out name, out responseCode, out var records);
        addresses = records.ConvertAll(r => r.Address);
        return read;
    }

    /// <summary>The same, with each address's TTL in seconds: what the egress policy's name table holds it for.</summary>
    public static bool TryReadWithTtls(ReadOnlySpan<byte> response, out string name, out byte responseCode, out List<(IPAddress Address, uint Ttl)> addresses)
    {
        name = "";
        responseCode = 0;
        addresses = new List<(IPAddress, uint)>();
        if (!DnsMessage.TryParse(response, out var header) || header.QuestionCount != 1
            || !DnsName.TrySkip(response, DnsMessage.HeaderLength, out int nameEnd))
        {
            return false;
        }
        responseCode = header.ResponseCode;
        name = DnsName.ToText(response[DnsMessage.HeaderLength..nameEnd]).TrimEnd('.').ToLowerInvariant();
        int answers = header.AnswerCount;
        int offset = nameEnd + 4;
        for (int i = 0; i < answers && DnsRecord.TryRead(response, offset, out var record); i++)
        {
            if (record.Type == DnsType.A && record.DataLength == 4 || record.Type == DnsType.Aaaa && record.DataLength == 16)
            {
                addresses.Add((new IPAddress(response.Slice(record.DataOffset, record.DataLength)), record.Ttl));
            }
            offset = record.End;
        }
        return true;
    }
}
