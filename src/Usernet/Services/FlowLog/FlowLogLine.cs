using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Services.FlowLog;

/// <summary>
/// One line of the flow log: a JSON object, written once when a flow ends. The fields, in order:
/// time (UTC, ISO 8601 with milliseconds), link, mac and ip (the guest), proto (tcp, udp,
/// icmp), direction (outbound: the guest opened it; inbound: a client of a published port),
/// source and destination (as the guest sees them; for icmp the addresses alone, with echoId),
/// name (the name the guest resolved the remote address from, through Usernet's DNS, when
/// known), verdict and rule (the egress policy's allow or deny, and the setting that decided:
/// egress.rules[i], i as <c>usernet config</c> numbers the effective list, or egress.default;
/// absent for flows the policy does not cover: inbound, and to the gateway's own services),
/// bytes and packets each way (bytesFromGuest and packetsFromGuest: what the guest
/// sent), seconds (the flow's duration), and end (fin, reset, timeout, evicted, closed, refused).
/// A flow still open (<c>GET /flows/open</c>) has the same fields so far, with no end. A start
/// line (log.flowStarts) has the fields up to rule, then start (true), with no counts and no end.
/// </summary>
internal static class FlowLogLine
{
    /// <summary>What is known of a flow's guest and remote when it ends, beside its record.</summary>
    public readonly record struct Context(DateTime Time, TimeSpan Duration, string? Link, MacAddress? Mac, string? Name);

    public static string Format(FlowRecord record, FlowEnd? end, in Context context)
    {
        var buffer = new ArrayBufferWriter<byte>(384);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteHead(writer, record, context);
            writer.WriteNumber("bytesFromGuest", record.BytesFromGuest);
            writer.WriteNumber("bytesToGuest", record.BytesToGuest);
            writer.WriteNumber("packetsFromGuest", record.PacketsFromGuest);
            writer.WriteNumber("packetsToGuest", record.PacketsToGuest);
            writer.WriteNumber("seconds", Math.Round(Math.Max(0, context.Duration.TotalSeconds), 3));
            if (end is { } ended)
            {
                writer.WriteString("end", EndName(ended));
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// A flow's start line (log.flowStarts): the fields known as it opens, up to verdict and
    /// rule, then <c>"start":true</c> where an end line has its counts and <c>end</c>.
    /// </summary>
    public static string FormatStart(FlowRecord record, in Context context)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteHead(writer, record, context);
            writer.WriteBoolean("start", true);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The object's opening and the fields a start line and an end line share: time to rule.</summary>
    private static void WriteHead(Utf8JsonWriter writer, FlowRecord record, in Context context)
    {
        writer.WriteStartObject();
        writer.WriteString("time", context.Time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        if (context.Link is { } link)
        {
            writer.WriteString("link", link);
        }
        if (context.Mac is { } mac)
        {
            writer.WriteString("mac", mac.ToString());
        }
        writer.WriteString("ip", record.Guest.Address.ToString());
        writer.WriteString("proto", ProtocolName(record.Protocol));
        writer.WriteString("direction", record.Inbound ? "inbound" : "outbound");
        var (source, destination) = record.Inbound ? (record.Remote, record.Guest) : (record.Guest, record.Remote);
        if (record.Protocol == IpProtocol.Icmp)
        {
            writer.WriteString("source", source.Address.ToString());
            writer.WriteString("destination", destination.Address.ToString());
            writer.WriteNumber("echoId", record.Guest.Port);
        }
        else
        {
            writer.WriteString("source", source.ToString());
            writer.WriteString("destination", destination.ToString());
        }
        if (context.Name is { } name)
        {
            writer.WriteString("name", name);
        }
        if (record.Egress is { } egress)
        {
            writer.WriteString("verdict", egress.VerdictName);
            writer.WriteString("rule", egress.RuleName);
        }
    }

    public static string ProtocolName(byte protocol) => protocol switch
    {
        IpProtocol.Tcp => "tcp",
        IpProtocol.Udp => "udp",
        _ => "icmp",
    };

    public static string EndName(FlowEnd end) => end switch
    {
        FlowEnd.Fin => "fin",
        FlowEnd.Reset => "reset",
        FlowEnd.Expired => "timeout",
        FlowEnd.Evicted => "evicted",
        FlowEnd.Refused => "refused",
        _ => "closed",
    };
}
