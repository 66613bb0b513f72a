using System.Text.Json;
using Usernet.Cli;
using Usernet.Config;
using Usernet.Tests.Support;

namespace Usernet.Tests.Cli;

/// <summary>
/// The document <c>usernet stats</c> prints, from an instance built as `usernet run` builds one
/// (with a link in memory and no control socket): the keys its readers use, in their sections.
/// </summary>
public sealed class InstanceStatsTests
{
    private static readonly (string Section, string[] Keys)[] Sections =
    [
        ("stack", ["framesIn", "framesOut", "arpReplies", "echoReplies", "icmpErrors", "fragmentsToGuest", "dropped",
            "neighbours", "pendingReassemblies", "pendingReassemblies6", "awaitingResolution", "awaitingResolutionDropped"]),
        ("switch", ["truncated", "badChecksumOffload", "betweenGuests", "flooded", "linksOpened", "linksClosed"]),
        ("dhcp", ["requests", "offers", "acks", "naks", "ignored", "malformed", "leases", "poolCapacity", "poolExhausted", "offersEvicted"]),
        ("dhcp6", ["requests", "replies", "leases", "malformed", "exhausted"]),
        ("tcp", ["connections", "inboundConnections", "opened", "closed", "refused", "unreachable", "connectTimeouts", "limitReached",
            "inboundLimitReached", "segmentsIn", "segmentsOut", "bytesFromGuest", "bytesToGuest", "retransmits", "fastRetransmits",
            "resetsToGuest", "resetsFromGuest", "resetsFromHost", "outOfOrder", "outOfWindow", "challengeAcks", "keepaliveProbes",
            "keepaliveTimeouts", "windowProbes", "partialWrites", "mssRaised", "yields"]),
        ("udp", ["flows", "flowsOpened", "flowsExpired", "flowsEvicted", "datagramsFromGuest", "datagramsToGuest", "bytesFromGuest",
            "bytesToGuest", "sendDropped", "tooBig", "icmpErrorsRelayed", "socketFailures"]),
        ("ping", ["flows", "echoesSent", "repliesRelayed", "errorsRelayed", "refused", "flowsOpened", "bytesFromGuest", "bytesToGuest"]),
        ("ports", ["published", "connections", "activeConnections", "refused", "bytesToGuest", "bytesFromGuest", "datagramsToGuest",
            "datagramsFromGuest", "clientsEvicted", "clientsExpired"]),
        ("dns", ["queries", "tcpQueries", "tcpConnections", "local", "cached", "hostResolver", "upstream", "joinedLookup", "inhibited",
            "truncated", "nxdomain", "servfail", "formerr", "notimp", "refused", "droppedMalformed", "droppedWaiters", "timeouts",
            "upstreamFailures", "overloaded", "upstreamMismatched", "resolvConfReloads", "inflight", "cacheSize", "cacheBytes", "cacheEvictions", "localNames"]),
        ("proxy", ["connections", "active", "requests", "tunnels", "transparent", "blocked", "malformed", "upstreamFailures", "refused",
            "overBudget", "timeouts", "reloads", "reloadsRefused", "bufferedBytes", "resolvedNames"]),
    ];

    private static readonly string[] LinkKeys = ["framesIn", "bytesIn", "framesOut", "bytesOut", "droppedOut", "errorsIn"];

    [Fact]
    public async Task TheDocumentHasEveryKeyInItsSection()
    {
        await using var instance = new Instance(Options("stats-shape"));
        var link = new RecordingLink("tap0");
        instance.Attach(link);
        // Too short for Ethernet: counted under its drop reason.
        instance.Stack.Receive(new byte[3], link, default);

        using var document = JsonDocument.Parse(instance.Stats.Write());
        var root = document.RootElement;
        AssertNoKeyTwice(root);
        Assert.Equal("stats-shape", root.GetProperty("instance").GetString());
        Assert.Equal("DualStack", root.GetProperty("mode").GetString());
        foreach (var (section, keys) in Sections)
        {
            var numbers = root.GetProperty(section);
            Assert.Equal(JsonValueKind.Object, numbers.ValueKind);
            foreach (string key in keys)
            {
                Assert.True(numbers.TryGetProperty(key, out var value), $"{section}.{key} is missing");
                Assert.True(value.ValueKind == JsonValueKind.Number, $"{section}.{key} is {value.ValueKind}");
            }
        }
        Assert.Equal(1, root.GetProperty("stack").GetProperty("drops").GetProperty("ethernetTruncated").GetInt64());
        Assert.Equal(1, root.GetProperty("stack").GetProperty("dropped").GetInt64());
        Assert.Equal(1, root.GetProperty("switch").GetProperty("linksOpened").GetInt64());
        var entry = Assert.Single(root.GetProperty("links").EnumerateArray());
        Assert.Equal("tap0", entry.GetProperty("link").GetString());
        Assert.All(LinkKeys, key => Assert.Equal(JsonValueKind.Number, entry.GetProperty(key).ValueKind));
        Assert.Equal(JsonValueKind.String, root.GetProperty("ping").GetProperty("mode").ValueKind);
        Assert.Equal(JsonValueKind.Number, root.GetProperty("loopFaults").ValueKind);
        Assert.True(root.GetProperty("timers").GetInt32() > 0, "the stack's router advertisements are on the loop's timers");
    }

    [Fact]
    public async Task TheMetricsHaveOneTypePerFamilyAndEverySampleUnderItsFamily()
    {
        await using var instance = new Instance(Options("metrics-shape"));
        var link = new RecordingLink("tap0");
        instance.Attach(link);
        instance.Stack.Receive(new byte[3], link, default);

        string text = instance.Stats.WritePrometheus();
        Assert.EndsWith("\n", text);
        var types = new Dictionary<string, string>();
        var series = new HashSet<string>();
        string? family = null;
        string? help = null;
        foreach (string line in text.TrimEnd('\n').Split('\n'))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                help = line.Split(' ')[2];
                Assert.True(line.Length > "# HELP ".Length + help.Length + 1, $"no help text: {line}");
                continue;
            }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                string[] parts = line.Split(' ');
                family = parts[2];
                Assert.Equal(help, family);
                Assert.True(types.TryAdd(family, parts[3]), $"{family} has a second TYPE line");
                Assert.Contains(parts[3], new[] { "counter", "gauge", "histogram" });
                Assert.StartsWith("usernet_", family);
                Assert.True(parts[3] != "counter" || family.EndsWith("_total", StringComparison.Ordinal), family);
                continue;
            }
            Assert.NotNull(family);
            int space = line.LastIndexOf(' ');
            string key = line[..space];
            Assert.True(double.TryParse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture, out double value), line);
            Assert.True(value >= 0, line);
            string name = key.Split('{')[0];
            string expected = types[family] == "histogram" && name != family
                ? family + name[family.Length..] : family;
            Assert.Equal(expected, name);
            Assert.True(types[family] != "histogram" || name == family + "_bucket" || name == family + "_sum" || name == family + "_count", name);
            Assert.True(series.Add(key), $"{key} is written twice");
        }
        Assert.Contains("usernet_dropped_frames_total{layer=\"stack\",reason=\"ethernet_truncated\"} 1\n", text);
        Assert.Contains("usernet_dropped_frames_total{layer=\"stack\",reason=\"tcp_no_flow\"} 0\n", text);
        Assert.Contains("usernet_link_frames_total{link=\"tap0\",direction=\"from_guest\"}", text);
        Assert.Contains("usernet_flows_open{proto=\"icmp\"} 0\n", text);
        Assert.Contains("usernet_dns_answer_duration_seconds_bucket{le=\"+Inf\"} 0\n", text);
        foreach (string required in new[]
        {
            "usernet_stack_frames_total", "usernet_flows_total", "usernet_bytes_total", "usernet_packets_total", "usernet_dns_queries_total",
            "usernet_dns_answers_total", "usernet_dns_upstream_failures_total", "usernet_proxy_requests_total", "usernet_proxy_tunnels_total",
            "usernet_proxy_failures_total", "usernet_published_ports", "usernet_published_bytes_total",
        })
        {
            Assert.True(types.ContainsKey(required), $"{required} is missing");
        }
    }

    /// <summary>A key written twice (by a part and by its counters, say) would leave readers one of the two.</summary>
    private static void AssertNoKeyTwice(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            var names = element.EnumerateObject().Select(p => p.Name).ToList();
            Assert.Equal(names.Distinct().Count(), names.Count);
            foreach (var property in element.EnumerateObject())
            {
                AssertNoKeyTwice(property.Value);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                AssertNoKeyTwice(item);
            }
        }
    }

    /// <summary>The default settings as `usernet run` maps them, without reading any settings file.</summary>
    private static InstanceOptions Options(string name) => SettingsOptions.FromSettings(SettingsLoader.Load(new SettingsInput()).Settings!, name);
}
