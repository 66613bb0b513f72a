using System.Globalization;
using System.Text;

namespace Usernet.Cli;

/// <summary>How <c>usernet top</c> orders the flows: by bytes carried so far, by rate now, or by name.</summary>
internal enum TopSort
{
    Bytes,
    Rate,
    Name,
}

/// <summary>A guest address the stack knows: its link, MAC and IP.</summary>
internal sealed record TopGuest(string Link, string Mac, string Ip);

/// <summary>
/// An open flow with its bytes so far (both ways), its rate over the last interval in bytes per
/// second, and the egress rule that let it out (an open flow is one the policy allowed).
/// </summary>
internal sealed record TopFlow(string Proto, string Source, string Destination, string? Name, long BytesFromGuest, long BytesToGuest, double Rate, string? Rule)
{
    public long Bytes => BytesFromGuest + BytesToGuest;
}

/// <summary>What one frame of <c>usernet top</c> shows: rates are per second over the last interval.</summary>
internal sealed record TopSample(
    string Instance, DateTime Time, IReadOnlyList<TopGuest> Guests, IReadOnlyList<TopFlow> Flows,
    long DnsQueries, double DnsRate, long Drops, double DropRate, long Denied, double DeniedRate);

/// <summary>
/// The layout of one frame of <c>usernet top</c>, from a sample alone (no I/O, no clock), so that
/// its sorting and its fitting to the terminal are tested with explicit data: a title, a summary
/// line, the guests, then as many of the busiest flows as the height leaves room for. Columns
/// take their widest cell; when the line is too wide for the terminal the widest column gives
/// up a character at a time, down to its minimum, and a cell that does not fit ends in "…".
/// Nothing wraps, so a frame is never taller than asked.
/// </summary>
internal static class TopFrame
{
    /// <summary>Lines that are not guests or flows: title, summary, blank, guests' header, blank, flows' header.</summary>
    private const int FixedLines = 6;

    public const string Keys = "b bytes  r rate  n name  q quit";

    private static readonly Column[] GuestColumns = [new("LINK", 6), new("MAC", 8), new("IP", 8)];

    private static readonly Column[] FlowColumns =
    [
        // An IPv4 destination with its port (21 characters) is kept whole; the source and the rule give way first.
        new("PROTO", 5), new("SOURCE", 5), new("DESTINATION", 21), new("NAME", 8),
        new("RATE", 7, Right: true), new("SENT", 6, Right: true), new("RCVD", 6, Right: true), new("RULE", 5),
    ];

    public static IReadOnlyList<TopFlow> Sort(IReadOnlyList<TopFlow> flows, TopSort sort) => sort switch
    {
        TopSort.Rate => [.. flows.OrderByDescending(f => f.Rate).ThenByDescending(f => f.Bytes).ThenBy(f => f.Destination, StringComparer.Ordinal)],
        TopSort.Name => [.. flows.OrderBy(f => f.Name ?? f.Destination, StringComparer.OrdinalIgnoreCase).ThenByDescending(f => f.Bytes)],
        _ => [.. flows.OrderByDescending(f => f.Bytes).ThenByDescending(f => f.Rate).ThenBy(f => f.Destination, StringComparer.Ordinal)],
    };

    /// <summary>The frame's lines for a terminal of <paramref name="width"/> columns and <paramref name="height"/> lines.</summary>
    public static string[] Lines(TopSample sample, TopSort sort, int width, int height)
    {
        var lines = new List<string>
        {
            Fit($"usernet top - {sample.Instance} - {sample.Time.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture)} - sort: {SortName(sort)} ({Keys})", width),
            Fit(string.Create(CultureInfo.InvariantCulture, $"DNS {sample.DnsRate:0.0} q/s ({sample.DnsQueries})  drops {sample.DropRate:0.0}/s ({sample.Drops})  ")
                + string.Create(CultureInfo.InvariantCulture, $"refused by policy {sample.DeniedRate:0.0}/s ({sample.Denied})  flows {sample.Flows.Count}"), width),
            "",
        };
        int guestRows = Math.Min(sample.Guests.Count, Math.Max(1, (height - FixedLines) / 3));
        lines.AddRange(Table(GuestColumns, sample.Guests.Take(guestRows).Select(g => new[] { g.Link, g.Mac, g.Ip }), width));
        lines.Add("");
        int flowRows = Math.Max(1, height - FixedLines - guestRows);
        lines.AddRange(Table(FlowColumns, Sort(sample.Flows, sort).Take(flowRows).Select(f => new[]
        {
            f.Proto, f.Source, f.Destination, f.Name ?? "", Rate(f.Rate), Size(f.BytesFromGuest), Size(f.BytesToGuest), f.Rule ?? "",
        }), width));
        return [.. lines];
    }

    public static string SortName(TopSort sort) => sort switch
    {
        TopSort.Rate => "rate",
        TopSort.Name => "name",
        _ => "bytes",
    };

    /// <summary>A byte count in at most 5 characters, as top shows it: 1023B, 9.5K, 512K, 1.2M (powers of 1024), a decimal below 10 only.</summary>
    public static string Size(double bytes)
    {
        string[] units = ["B", "K", "M", "G", "T"];
        int unit = 0;
        while (bytes >= 1024 && unit < units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }
        // Rounded down, so that 9.99K stays "9.9K" rather than becoming a sixth character.
        return unit > 0 && bytes < 10
            ? string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(bytes * 10) / 10:0.0}{units[unit]}")
            : string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(bytes):0}{units[unit]}");
    }

    public static string Rate(double bytesPerSecond) => Size(bytesPerSecond) + "/s";

    /// <summary><paramref name="text"/> cut to <paramref name="width"/> characters, its last one "…" when cut.</summary>
    public static string Fit(string text, int width) =>
        text.Length <= width ? text : width <= 0 ? "" : string.Concat(text.AsSpan(0, width - 1), "…");

    /// <summary>A header and rows, columns one space apart, narrowed to <paramref name="width"/> as the type's summary says.</summary>
    private static IEnumerable<string> Table(Column[] columns, IEnumerable<string[]> rows, int width)
    {
        var cells = rows.ToList();
        int[] widths = new int[columns.Length];
        for (int i = 0; i < columns.Length; i++)
        {
            widths[i] = Math.Max(columns[i].Header.Length, cells.Count == 0 ? 0 : cells.Max(r => r[i].Length));
        }
        int total = widths.Sum() + columns.Length - 1;
        while (total > width)
        {
            int widest = -1;
            for (int i = 0; i < columns.Length; i++)
            {
                if (widths[i] > columns[i].Minimum && (widest < 0 || widths[i] > widths[widest]))
                {
                    widest = i;
                }
            }
            if (widest < 0)
            {
                break;
            }
            widths[widest]--;
            total--;
        }
        yield return Row(columns, columns.Select(c => c.Header).ToArray(), widths, width);
        foreach (var row in cells)
        {
            yield return Row(columns, row, widths, width);
        }
    }

    private static string Row(Column[] columns, string[] row, int[] widths, int width)
    {
        var line = new StringBuilder();
        for (int i = 0; i < columns.Length; i++)
        {
            string cell = Fit(row[i], widths[i]);
            line.Append(columns[i].Right ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]));
            if (i < columns.Length - 1)
            {
                line.Append(' ');
            }
        }
        return Fit(line.ToString().TrimEnd(), width);
    }

    /// <summary>A column: its header, the fewest characters it keeps when the line is narrowed, and whether it is right-aligned.</summary>
    private readonly record struct Column(string Header, int Minimum, bool Right = false);
}
