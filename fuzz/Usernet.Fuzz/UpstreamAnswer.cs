using System.Buffers.Binary;
using Usernet.Services.Dns;
using Usernet.Wire;

namespace Usernet.Fuzz;

/// <summary>What the fake upstream nameserver and the fake getaddrinfo answer, made from the input's bytes.</summary>
internal static class UpstreamAnswer
{
    /// <summary>
    /// A response to <paramref name="lookup"/>: the forwarder hands on only one whose ID and
    /// question match, so those are the lookup's; the flags, the counts and the sections are
    /// <paramref name="bytes"/>.
    /// </summary>
    public static byte[] For(DnsLookup lookup, byte[] bytes)
    {
        const int Fields = DnsMessage.HeaderLength - 2;
        int question = DnsMessage.HeaderLength + lookup.Name.Length;
        byte[] message = new byte[question + 4 + Math.Max(0, bytes.Length - Fields)];
        bytes.AsSpan(0, Math.Min(Fields, bytes.Length)).CopyTo(message.AsSpan(2));
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), 1);
        lookup.Name.CopyTo(message, DnsMessage.HeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(question), lookup.Type);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(question + 2), DnsClass.Internet);
        if (bytes.Length > Fields)
        {
            bytes.AsSpan(Fields).CopyTo(message.AsSpan(question + 4));
        }
        return message;
    }

    /// <summary>getaddrinfo's answer: a status, and up to 8 addresses of 16 bytes each (an even first byte makes it IPv4).</summary>
    public static HostLookupResult HostResult(int status, byte[] bytes)
    {
        var addresses = new List<IpAddress>();
        for (int i = 0; i + 16 <= bytes.Length && addresses.Count < 8; i += 16)
        {
            addresses.Add(bytes[i] % 2 == 0 ? Ipv4Address.Read(bytes.AsSpan(i + 1)) : Ipv6Address.Read(bytes.AsSpan(i)));
        }
        return new HostLookupResult((HostLookupStatus)(status % 4), addresses);
    }
}
