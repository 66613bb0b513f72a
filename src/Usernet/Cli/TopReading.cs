using System.Text.Json;

namespace Usernet.Cli;

/// <summary>
/// What <c>usernet top</c> read from an instance at one moment (<c>GET /stats</c>, <c>/guests</c>,
/// <c>/flows/open</c>); two readings make a <see cref="TopSample"/> with rates.
/// </summary>
internal sealed class TopReading
{
    private readonly Dictionary<string, long> _flowBytes = new(StringComparer.Ordinal);

    private TopReading(string instance, DateTime time, TopGuest[] guests, (string Key, TopFlow Flow)[] flows, long dnsQueries, long drops, long denied)
    {
        Instance = instance;
        Time = time;
        Guests = guests;
        Flows = flows;
        DnsQueries = dnsQueries;
        Drops = drops;
        Denied = denied;
        foreach (var (key, flow) in flows)
        {
            _flowBytes[key] = flow.Bytes;
        }
    }

    public string Instance { get; }

    public DateTime Time { get; }

    public TopGuest[] Guests { get; }

    public (string Key, TopFlow Flow)[] Flows { get; }

    public long DnsQueries { get; }

    public long Drops { get; }

    public long Denied { get; }

    public static TopReading Parse(DateTime time, string stats, string guests, string openFlows)
    {
        using var statsDocument = JsonDocument.Parse(stats);
        var root = statsDocument.RootElement;
        long dns = Number(root, "dns", "queries");
        long drops = Number(root, "stack", "dropped");
        long denied = Number(root, "egress", "denied");

        using var guestsDocument = JsonDocument.Parse(guests);
        var guestList = guestsDocument.RootElement.GetProperty("guests").EnumerateArray()
            .Select(g => new TopGuest(Text(g, "link"), Text(g, "mac"), Text(g, "ip"))).ToArray();

        var flows = new List<(string, TopFlow)>();
        foreach (string line in openFlows.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var document = JsonDocument.Parse(line);
            var flow = document.RootElement;
            string proto = Text(flow, "proto");
            string source = Text(flow, "source");
            string destination = Text(flow, "destination");
            string? name = flow.TryGetProperty("name", out var n) ? n.GetString() : null;
            string? rule = flow.TryGetProperty("rule", out var r) ? r.GetString() : null;
            // An echo flow's source is an address alone: its identifier tells two apart.
            string key = $"{proto} {source} {destination} {(flow.TryGetProperty("echoId", out var id) ? id.GetInt32() : 0)}";
            flows.Add((key, new TopFlow(proto, source, destination, name, Number(flow, "bytesFromGuest"), Number(flow, "bytesToGuest"), 0, rule)));
        }
        return new TopReading(Text(root, "instance"), time, guestList, [.. flows], dns, drops, denied);
    }

    /// <summary>This reading, with rates since <paramref name="previous"/> (none for the first: rates 0).</summary>
    public TopSample Sample(TopReading? previous)
    {
        double seconds = previous is null ? 0 : (Time - previous.Time).TotalSeconds;
        double Rate(long now, long before) => seconds > 0 ? Math.Max(0, now - before) / seconds : 0;
        var flows = Flows.Select(f => f.Flow with
        {
            // A flow new since the last reading carried all its bytes within the interval.
            Rate = previous is null ? 0 : Rate(f.Flow.Bytes, previous._flowBytes.GetValueOrDefault(f.Key)),
        }).ToArray();
        return new TopSample(Instance, Time, Guests, flows,
            DnsQueries, previous is null ? 0 : Rate(DnsQueries, previous.DnsQueries),
            Drops, previous is null ? 0 : Rate(Drops, previous.Drops),
            Denied, previous is null ? 0 : Rate(Denied, previous.Denied));
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.ToString() : "";

    private static long Number(JsonElement element, params string[] path)
    {
        foreach (string name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return 0;
            }
        }
        return element.ValueKind == JsonValueKind.Number ? element.GetInt64() : 0;
    }
}
