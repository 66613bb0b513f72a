using System.Buffers.Binary;
using Usernet.Fuzz.Fakes;
using Usernet.Services.Dns;
using Usernet.Wire;

namespace Usernet.Fuzz.Targets;

/// <summary>
/// The DNS server's query path (<see cref="DnsResolver"/>): queries over UDP and TCP, and the
/// answers of a fake upstream and of a fake getaddrinfo, with time passing so that the cache
/// expires and lookups time out. Each step is a byte, then its operands:
/// <code>
///   op &amp; 3 = 0, 1  a query (bit 0 of op: over TCP), from one of four clients
///   op &amp; 3 = 2     the oldest lookup answered: by upstream bytes (its question and the input's sections), or getaddrinfo
///   op &amp; 3 = 3     time passes (seconds), then lookups past their deadline fail
/// </code>
/// Every response, at once or late, fits its limit, parses, and carries its query's ID; the
/// lookups in flight and the cache stay within their limits.
/// </summary>
internal sealed class DnsTarget : IFuzzTarget, IDnsStream
{
    private static readonly IpEndpoint Server = new(FuzzNetwork.StackOptions.Gateway, DnsServer.Port);

    private readonly byte[] _query = new byte[DnsResponseWriter.TcpLimit];
    private readonly byte[] _response = new byte[DnsResponseWriter.TcpLimit];
    private readonly FakeDnsLookups _lookups = new();

    public void Run(ReadOnlySpan<byte> data)
    {
        _lookups.Pending.Clear();
        var resolver = FuzzNetwork.NewResolver(_lookups, (_, _, payload) => CheckResponse(payload, DnsResponseWriter.UdpPayloadSize));
        var input = new FuzzInput(data);
        var now = FuzzNetwork.Start;
        for (int steps = 0; !input.IsEmpty && steps < 256; steps++)
        {
            byte op = input.Byte();
            switch (op & 3)
            {
                case <= 1:
                {
                    bool tcp = (op & 1) != 0;
                    var client = new IpEndpoint(FuzzNetwork.StackOptions.FirstGuest.Offset((op >> 2) & 3), 40000);
                    var block = input.Block(tcp ? _query.Length : 4096);
                    var query = _query.AsSpan(0, block.Length);
                    block.CopyTo(query);
                    var replyTo = new DnsReplyTo(client, Server, tcp ? this : null);
                    int length = resolver.Resolve(query, replyTo, tcp ? _response : _response.AsSpan(0, DnsResponseWriter.UdpPayloadSize), now);
                    if (length > 0)
                    {
                        CheckResponse(_response.AsSpan(0, length), tcp ? DnsResponseWriter.TcpLimit : DnsResponseWriter.UdpPayloadSize);
                        PropertyException.Check(query.Length < 2 || BinaryPrimitives.ReadUInt16BigEndian(_response) == BinaryPrimitives.ReadUInt16BigEndian(query),
                            "a DNS response with another ID than its query's");
                    }
                    break;
                }
                case 2:
                    Answer(resolver, op, ref input, now);
                    break;
                default:
                    now += TimeSpan.FromSeconds(input.UInt16());
                    resolver.Expire(now);
                    break;
            }
            PropertyException.Check(resolver.LookupsInFlight <= FuzzNetwork.DnsOptions.MaxLookups, $"{resolver.LookupsInFlight} DNS lookups in flight");
            PropertyException.Check(resolver.Cache.Count <= FuzzNetwork.DnsCacheSize, $"{resolver.Cache.Count} cached DNS answers");
        }
    }

    /// <summary>A late answer over TCP.</summary>
    public void Send(ReadOnlySpan<byte> response) => CheckResponse(response, DnsResponseWriter.TcpLimit);

    private static void CheckResponse(ReadOnlySpan<byte> response, int limit)
    {
        PropertyException.Check(response.Length <= limit, $"a DNS response of {response.Length} bytes over a limit of {limit}");
        PropertyException.Check(DnsMessage.TryParse(response, out _), "a DNS response that does not parse");
    }

    private void Answer(DnsResolver resolver, byte op, ref FuzzInput input, Instant now)
    {
        var bytes = input.Block(4096).ToArray();
        if (_lookups.Pending.Count == 0)
        {
            return;
        }
        var lookup = _lookups.Pending[0];
        _lookups.Pending.RemoveAt(0);
        if (lookup.Kind == DnsLookupKind.Upstream)
        {
            resolver.CompleteForward(lookup, (op & 4) != 0 ? null : UpstreamAnswer.For(lookup, bytes), now);
            return;
        }
        resolver.CompleteHost(lookup, UpstreamAnswer.HostResult(op >> 2, bytes), now);
    }
}
