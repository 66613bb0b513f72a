using System.Buffers.Binary;
using System.Net;
using Usernet.Wire;

namespace Usernet.Services.Proxy;

/// <summary>
/// The names guests resolved through our DNS server, by address: a transparent connection to
/// an address whose TLS or HTTP bytes name no host is sent to the upstream under the name the
/// guest looked up. Bounded: the oldest entries go first. Written on the loop thread (the DNS
/// server's answers), read there and on the pool, so it locks.
/// </summary>
internal sealed class ResolvedNames(int capacity = 8192)
{
    private readonly Dictionary<IPAddress, string> _names = new();
    private readonly Queue<IPAddress> _order = new();
    private readonly Lock _gate = new();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _names.Count;
            }
        }
    }

    public string? Find(IPAddress address)
    {
        lock (_gate)
        {
            return _names.GetValueOrDefault(address);
        }
    }

    public void Add(IPAddress address, string name)
    {
        lock (_gate)
        {
            if (_names.ContainsKey(address))
            {
                _names[address] = name;
                return;
            }
            while (_names.Count >= capacity && _order.TryDequeue(out var oldest))
            {
                _names.Remove(oldest);
            }
            _names[address] = name;
            _order.Enqueue(address);
        }
    }

    /// <summary>Takes the A and AAAA records of a response we sent a guest, under the name it asked for.</summary>
    public void Observe(ReadOnlySpan<byte> response)
    {
        if (response.Length < DnsMessage.HeaderLength
            || (response[3] & 0xF) != DnsResponseCode.NoError
            || BinaryPrimitives.ReadUInt16BigEndian(response[4..]) != 1)
        {
            return;
        }
        int answers = BinaryPrimitives.ReadUInt16BigEndian(response[6..]);
        if (answers == 0 || !DnsName.TrySkip(response, DnsMessage.HeaderLength, out int nameEnd))
        {
            return;
        }
        string name = DnsName.ToText(response[DnsMessage.HeaderLength..nameEnd]).TrimEnd('.').ToLowerInvariant();
        int offset = nameEnd + 4;
        for (int i = 0; i < answers && DnsRecord.TryRead(response, offset, out var record); i++)
        {
            if (record.Type == DnsType.A && record.DataLength == 4 || record.Type == DnsType.Aaaa && record.DataLength == 16)
            {
                Add(new IPAddress(response.Slice(record.DataOffset, record.DataLength)), name);
            }
            offset = record.End;
        }
    }
}
