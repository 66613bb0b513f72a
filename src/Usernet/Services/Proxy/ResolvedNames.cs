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
        // Only answers with records: most responses are skipped after reading the header.
        if (!DnsMessage.TryParse(response, out var header) || header.AnswerCount == 0
            || !DnsAddressAnswer.TryRead(response, out string name, out byte code, out var addresses) || code != DnsResponseCode.NoError)
        {
            return;
        }
        foreach (var address in addresses)
        {
            Add(address, name);
        }
    }
}
