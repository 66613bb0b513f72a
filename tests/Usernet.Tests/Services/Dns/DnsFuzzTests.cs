using System.Diagnostics;
using Usernet.Services.Dns;
using Usernet.Tests.Support;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dns;

/// <summary>
/// Hostile input: random and mutated queries, compression loops, oversized labels and upstream
/// responses of garbage. Nothing may throw, hang or answer with a malformed message.
/// </summary>
public sealed class DnsFuzzTests
{
    private static readonly Instant T0 = Instant.FromMilliseconds(5_000);

    private static IEnumerable<byte[]> Seeds() =>
    [
        DnsCaptures.DigA, DnsCaptures.DigAaaa, DnsCaptures.DigMx, DnsCaptures.DigNx, DnsCaptures.DigBigTxt,
        DnsTestMessages.Query("host.docker.internal", DnsType.A), DnsTestMessages.Query("x.test", DnsType.Txt, edns: true),
    ];

    /// <summary>Every answer the server gives must parse, and carry the query's ID.</summary>
    private static void CheckAnswer(byte[] query, byte[] response, int length)
    {
        if (length <= 0)
        {
            return;
        }
        var parsed = DnsTestMessages.Parse(response.AsSpan(0, length));
        Assert.Equal(query[0] << 8 | query[1], parsed.Id);
    }

    [Fact]
    public void MutatedAndRandomQueriesNeverThrowOrHang()
    {
        var dns = new DnsResolverHarness();
        var random = new Random(20240605);
        byte[] response = new byte[DnsResponseWriter.TcpLimit];
        var replyTo = new DnsReplyTo(DnsResolverHarness.Guest, DnsResolverHarness.Server);
        var seeds = Seeds().ToArray();
        var clock = Stopwatch.StartNew();
        int answered = 0;
        for (int i = 0; i < 20_000; i++)
        {
            byte[] query;
            switch (i % 4)
            {
                case 0:
                    query = new byte[random.Next(0, 600)];
                    random.NextBytes(query);
                    break;
                case 1:
                {
                    query = (byte[])seeds[random.Next(seeds.Length)].Clone();
                    int flips = random.Next(1, 6);
                    for (int f = 0; f < flips; f++)
                    {
                        query[random.Next(query.Length)] = (byte)random.Next(256);
                    }
                    break;
                }
                case 2:
                {
                    byte[] seed = seeds[random.Next(seeds.Length)];
                    query = seed[..random.Next(0, seed.Length + 1)];
                    break;
                }
                default:
                {
                    // A valid header and question count, then random labels and pointers.
                    query = new byte[random.Next(12, 300)];
                    random.NextBytes(query);
                    query[2] = 0x01;
                    query[4] = 0;
                    query[5] = 1;
                    for (int p = 12; p < query.Length; p += random.Next(1, 8))
                    {
                        query[p] = random.Next(3) == 0 ? (byte)(0xC0 | random.Next(2)) : (byte)random.Next(64);
                    }
                    break;
                }
            }
            // Queries of the lookups this starts are never completed: they time out below.
            int length = dns.Resolver.Resolve(query, replyTo, response, T0);
            CheckAnswer(query, response, length);
            answered += length > 0 ? 1 : 0;
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.True(answered > 1000);
        Assert.True(dns.Resolver.LookupsInFlight <= 1024);
        dns.Resolver.Expire(T0 + TimeSpan.FromSeconds(3));
        Assert.Equal(0, dns.Resolver.LookupsInFlight);
        // The server still answers.
        Assert.Single(dns.AskNow("host.docker.internal", DnsType.A, T0 + TimeSpan.FromSeconds(3)).Answers);
    }

    [Fact]
    public void CompressionLoopsAndOverlongNamesInAQuestionAreFormatErrors()
    {
        var dns = new DnsResolverHarness();
        byte[] header = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        byte[][] questions =
        [
            [0xC0, 12, 0, 1, 0, 1],
            [1, (byte)'a', 0xC0, 12, 0, 1, 0, 1],
            [64, .. new byte[64], 0, 0, 1, 0, 1],
            [.. Enumerable.Range(0, 5).SelectMany(_ => (byte[])[63, .. new byte[63]]), 0, 0, 1, 0, 1],
            [0x80, 0, 0, 1, 0, 1],
        ];
        foreach (byte[] question in questions)
        {
            var response = dns.Ask([.. header, .. question], T0)!;
            Assert.Equal(DnsResponseCode.FormatError, response.ResponseCode);
            Assert.Equal(0x1234, response.Id);
        }
    }

    [Fact]
    public void GarbageFromUpstreamIsServfailNotACrash()
    {
        var dns = new DnsResolverHarness();
        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            byte[] query = DnsTestMessages.Query($"n{i}.test", DnsType.Txt);
            dns.Ask(query, T0);
            byte[] upstream = DnsTestMessages.Upstream(query, 0, [DnsTestMessages.TxtRecord("data", 60), DnsTestMessages.ARecord("10.0.0.1", 60)]);
            int flips = random.Next(1, 8);
            for (int f = 0; f < flips; f++)
            {
                int at = random.Next(DnsTestMessages.QuestionEnd(query), upstream.Length);
                upstream[at] = (byte)random.Next(256);
            }
            if (random.Next(4) == 0)
            {
                upstream = upstream[..random.Next(DnsTestMessages.QuestionEnd(query), upstream.Length)];
            }
            dns.Resolver.CompleteForward(dns.Source.Forwarded[i], upstream, T0);
            var late = dns.TakeLate();
            Assert.Single(late);
        }
        Assert.Equal(0, dns.Resolver.LookupsInFlight);
    }

    [Fact]
    public void AFloodOfDistinctNamesStaysWithinTheBounds()
    {
        var dns = new DnsResolverHarness(cacheSize: 500);
        for (int i = 0; i < 5000; i++)
        {
            byte[] query = DnsTestMessages.Query($"flood{i}.test", DnsType.Txt);
            dns.Ask(query, T0);
            if (dns.Source.Forwarded.Count > 0)
            {
                var lookup = dns.Source.Forwarded[^1];
                if (!lookup.Completed)
                {
                    dns.Resolver.CompleteForward(lookup, DnsTestMessages.Upstream(query, 0, [DnsTestMessages.TxtRecord(new string('x', 200), 300)]), T0);
                }
            }
        }
        Assert.Equal(500, dns.Resolver.Cache.Count);
        Assert.True(dns.Resolver.Cache.Evictions >= 4500);
        Assert.Equal(0, dns.Resolver.LookupsInFlight);
    }
}
