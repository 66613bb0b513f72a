using System.Text.Json;
using Usernet.Cli;
using Usernet.Services.FlowLog;
using Usernet.Stack;
using Usernet.Stack.Egress;
using Usernet.Wire;

namespace Usernet.Tests.Services.FlowLog;

/// <summary>The flow log's line, field by field, and the table row <c>usernet flows</c> makes of it.</summary>
public sealed class FlowLogLineTests
{
    private static readonly IpEndpoint Guest = new(IpAddress.Parse("192.168.65.3"), 40000);
    private static readonly IpEndpoint Web = new(IpAddress.Parse("198.18.0.2"), 443);
    private static readonly DateTime Ended = new(2026, 12, 5, 8, 30, 1, 250, DateTimeKind.Utc);

    private static FlowRecord Record(byte protocol, IpEndpoint guest, IpEndpoint remote, bool inbound = false)
    {
        var record = new FlowRecord(protocol, 1, guest, remote, inbound, Instant.FromMilliseconds(1000))
        {
            BytesFromGuest = 517,
            BytesToGuest = 4096,
            PacketsFromGuest = 6,
            PacketsToGuest = 5,
        };
        return record;
    }

    [Fact]
    public void AnOutboundTcpFlowIsOneLineWithEveryField()
    {
        Assert.True(MacAddress.TryParse("02:50:00:00:00:03", out var mac));
        var record = Record(IpProtocol.Tcp, Guest, Web);
        record.Egress = new EgressDecision(true, 3);
        string line = FlowLogLine.Format(record, FlowEnd.Fin,
            new FlowLogLine.Context(Ended, TimeSpan.FromMilliseconds(1234.5678), "tap0", mac, "api.test.internal"));
        const string Expected = """{"time":"2026-12-05T08:30:01.250Z","link":"tap0","mac":"02:50:00:00:00:03","ip":"192.168.65.3","proto":"tcp","direction":"outbound","source":"192.168.65.3:40000","destination":"198.18.0.2:443","name":"api.test.internal","verdict":"allow","rule":"egress.rules[3]","bytesFromGuest":517,"bytesToGuest":4096,"packetsFromGuest":6,"packetsToGuest":5,"seconds":1.235,"end":"fin"}""";
        Assert.Equal(Expected, line);
        Assert.DoesNotContain('\n', line);
    }

    [Fact]
    public void AnInboundFlowComesFromTheClientToTheGuest()
    {
        string line = FlowLogLine.Format(Record(IpProtocol.Tcp, Guest, new IpEndpoint(IpAddress.Parse("192.168.65.254"), 51000), inbound: true),
            FlowEnd.Reset, new FlowLogLine.Context(Ended, TimeSpan.Zero, null, null, null));
        using var document = JsonDocument.Parse(line);
        var flow = document.RootElement;
        Assert.Equal("inbound", flow.GetProperty("direction").GetString());
        Assert.Equal("192.168.65.254:51000", flow.GetProperty("source").GetString());
        Assert.Equal("192.168.65.3:40000", flow.GetProperty("destination").GetString());
        Assert.Equal("reset", flow.GetProperty("end").GetString());
        Assert.False(flow.TryGetProperty("link", out _));
        Assert.False(flow.TryGetProperty("mac", out _));
        Assert.False(flow.TryGetProperty("name", out _));
        // Published ports are outside the egress policy: no verdict is claimed for them.
        Assert.False(flow.TryGetProperty("verdict", out _));
        Assert.False(flow.TryGetProperty("rule", out _));
    }

    [Fact]
    public void ASynTheDefaultDeniedSaysSoAndTheTableShowsIt()
    {
        var record = new FlowRecord(IpProtocol.Tcp, 1, Guest, Web, inbound: false, Instant.FromMilliseconds(1000))
        {
            PacketsFromGuest = 1,
            Egress = new EgressDecision(false, EgressDecision.DefaultRule),
        };
        string line = FlowLogLine.Format(record, FlowEnd.Refused, new FlowLogLine.Context(Ended, TimeSpan.Zero, "tap0", null, null));
        using var document = JsonDocument.Parse(line);
        var flow = document.RootElement;
        Assert.Equal("deny", flow.GetProperty("verdict").GetString());
        Assert.Equal("egress.default", flow.GetProperty("rule").GetString());
        Assert.Equal("refused", flow.GetProperty("end").GetString());
        Assert.EndsWith(" refused  deny egress.default", FlowsCommand.Row(line));
    }

    [Fact]
    public void AnEchoFlowHasAddressesAndItsIdentifier()
    {
        string line = FlowLogLine.Format(Record(IpProtocol.Icmp, new IpEndpoint(IpAddress.Parse("fdc4:f303:9324::3"), 7), new IpEndpoint(IpAddress.Parse("2001:db8::1"), 0)),
            FlowEnd.Expired, new FlowLogLine.Context(Ended, TimeSpan.FromSeconds(60), "tap0", null, null));
        using var document = JsonDocument.Parse(line);
        var flow = document.RootElement;
        Assert.Equal("icmp", flow.GetProperty("proto").GetString());
        Assert.Equal("fdc4:f303:9324::3", flow.GetProperty("source").GetString());
        Assert.Equal("2001:db8::1", flow.GetProperty("destination").GetString());
        Assert.Equal(7, flow.GetProperty("echoId").GetInt32());
        Assert.Equal("timeout", flow.GetProperty("end").GetString());
        Assert.Equal(60, flow.GetProperty("seconds").GetDouble());
    }

    [Fact]
    public void EachEndHasItsName()
    {
        Assert.Equal(
            ["evicted", "timeout", "closed", "fin", "reset", "refused"],
            Enum.GetValues<FlowEnd>().Select(FlowLogLine.EndName));
    }

    [Fact]
    public void TheTableHasAHeaderAndARowPerLine()
    {
        string line = FlowLogLine.Format(Record(IpProtocol.Udp, Guest, new IpEndpoint(IpAddress.Parse("198.18.0.2"), 53)), FlowEnd.Evicted,
            new FlowLogLine.Context(Ended, TimeSpan.FromSeconds(2), "tap0", null, null));
        string[] rows = FlowsCommand.Render(line + "\n", json: false).TrimEnd('\n').Split('\n');
        Assert.Equal(2, rows.Length);
        Assert.StartsWith("TIME     PROTO SOURCE", rows[0]);
        Assert.Matches(@"^08:30:01 udp  192\.168\.65\.3:40000 +198\.18\.0\.2:53 +517 +4096 +2 evicted$", rows[1]);
        Assert.Equal(line + "\n", FlowsCommand.Render(line + "\n", json: true));
    }

    [Fact]
    public void AStartLineHasTheFieldsKnownAtTheStartAndSaysItIsAStart()
    {
        Assert.True(MacAddress.TryParse("02:50:00:00:00:03", out var mac));
        var record = Record(IpProtocol.Tcp, Guest, Web);
        record.Egress = new EgressDecision(true, 3);
        string line = FlowLogLine.FormatStart(record, new FlowLogLine.Context(Ended, TimeSpan.Zero, "tap0", mac, "api.test.internal"));
        // The end line's fields up to its rule, the same names and order; no counts, no duration, no end.
        const string Expected = """{"time":"2026-12-05T08:30:01.250Z","link":"tap0","mac":"02:50:00:00:00:03","ip":"192.168.65.3","proto":"tcp","direction":"outbound","source":"192.168.65.3:40000","destination":"198.18.0.2:443","name":"api.test.internal","verdict":"allow","rule":"egress.rules[3]","start":true}""";
        Assert.Equal(Expected, line);
        string end = FlowLogLine.Format(record, FlowEnd.Fin, new FlowLogLine.Context(Ended, TimeSpan.FromSeconds(1), "tap0", mac, "api.test.internal"));
        Assert.StartsWith(Expected[..Expected.IndexOf(",\"start\"", StringComparison.Ordinal)], end);
        Assert.DoesNotContain("\"start\"", end);
    }

    [Fact]
    public void TheTableShowsAStartLineAsAStart()
    {
        var record = Record(IpProtocol.Udp, Guest, new IpEndpoint(IpAddress.Parse("198.18.0.2"), 53));
        record.Egress = new EgressDecision(true, EgressDecision.DefaultRule);
        string line = FlowLogLine.FormatStart(record, new FlowLogLine.Context(Ended, TimeSpan.Zero, "tap0", null, null));
        Assert.Matches(@"^08:30:01 udp  192\.168\.65\.3:40000 +198\.18\.0\.2:53 +start +allow egress\.default$", FlowsCommand.Row(line));
    }
}
