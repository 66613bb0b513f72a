using Usernet.Cli;

namespace Usernet.Tests.Cli;

/// <summary>The frame of <c>usernet top</c> from explicit samples: its order, and its fit to the terminal.</summary>
public sealed class TopFrameTests
{
    private static readonly DateTime Time = new(2026, 12, 5, 9, 30, 0, DateTimeKind.Utc);

    private static TopSample Sample(params TopFlow[] flows) =>
        new("top-test", Time, [new TopGuest("tap0", "02:50:00:00:00:03", "192.168.65.3")], flows, 120, 3, 5, 0, 2, 1);

    private static TopFlow Flow(string destination, string? name, long bytes, double rate) =>
        new("tcp", "192.168.65.3:40000", destination, name, bytes / 4, bytes - bytes / 4, rate, "egress.default");

    private static readonly TopFlow Big = Flow("198.18.0.2:443", "big.test", 10_000_000, 10);
    private static readonly TopFlow Fast = Flow("198.18.0.3:443", "fast.test", 1_000, 500_000);
    private static readonly TopFlow Named = Flow("198.18.0.4:80", "a-first.test", 10, 0);

    private static string[] Lines(TopSample sample, TopSort sort, int width, int height) =>
        TopFrame.Lines(sample, sort, width, height);

    [Theory]
    [InlineData(nameof(TopSort.Bytes), "big.test", "fast.test", "a-first.test")]
    [InlineData(nameof(TopSort.Rate), "fast.test", "big.test", "a-first.test")]
    [InlineData(nameof(TopSort.Name), "a-first.test", "big.test", "fast.test")]
    public void FlowsAreInTheOrderAsked(string sort, string first, string second, string third)
    {
        string[] lines = Lines(Sample(Big, Fast, Named), Enum.Parse<TopSort>(sort), 160, 40);
        int header = Array.FindIndex(lines, l => l.StartsWith("PROTO", StringComparison.Ordinal));
        Assert.True(header > 0, string.Join('\n', lines));
        Assert.Contains(first, lines[header + 1]);
        Assert.Contains(second, lines[header + 2]);
        Assert.Contains(third, lines[header + 3]);
    }

    [Fact]
    public void TheFrameSaysWhatItShows()
    {
        string[] lines = Lines(Sample(Big), TopSort.Bytes, 160, 40);
        Assert.StartsWith("usernet top - top-test - ", lines[0]);
        Assert.Contains("sort: bytes", lines[0]);
        Assert.Equal("DNS 3.0 q/s (120)  drops 0.0/s (5)  refused by policy 1.0/s (2)  flows 1", lines[1].TrimEnd());
        Assert.Contains(lines, l => l.StartsWith("LINK", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("tap0") && l.Contains("02:50:00:00:00:03") && l.Contains("192.168.65.3"));
        var row = Assert.Single(lines, l => l.Contains("big.test"));
        // 2,500,000 bytes from the guest (2.38 MiB, shown rounded down), 7,500,000 to it; 10 B/s.
        Assert.Matches(@"^tcp +192\.168\.65\.3:40000 +198\.18\.0\.2:443 +big\.test +10B/s +2\.3M +7\.1M +egress\.default$", row);
    }

    [Fact]
    public void An80By24TerminalGetsNoLineWiderAndNoMoreFlowsThanFit()
    {
        var flows = Enumerable.Range(0, 50).Select(i => Flow($"198.18.1.{i}:443", $"host-{i}.with-a-rather-long-name-that-cannot-fit.example.test", 1000 + i, i)).ToArray();
        string[] lines = Lines(Sample(flows), TopSort.Bytes, 80, 23);
        Assert.True(lines.Length <= 23, string.Join('\n', lines));
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length}: {l}"));
        // The busiest first, and names cut to fit rather than wrapped onto a line of their own.
        var rows = lines.Where(l => l.StartsWith("tcp", StringComparison.Ordinal)).ToArray();
        Assert.True(rows.Length >= 10, string.Join('\n', lines));
        Assert.Contains("198.18.1.49", rows[0]);
        Assert.DoesNotContain(lines, l => l.Contains("cannot-fit.example.test"));
        Assert.Contains("…", rows[0]);
        Assert.Contains("…", lines[0]);
    }

    [Theory]
    [InlineData("abcdef", 6, "abcdef")]
    [InlineData("abcdef", 4, "abc…")]
    [InlineData("abcdef", 0, "")]
    public void TextIsCutWithAnEllipsis(string text, int width, string fitted) => Assert.Equal(fitted, TopFrame.Fit(text, width));

    [Theory]
    [InlineData(0, "0B")]
    [InlineData(1023, "1023B")]
    [InlineData(1536, "1.5K")]
    [InlineData(10239, "9.9K")]
    [InlineData(10240, "10K")]
    [InlineData(1048575, "1023K")]
    [InlineData(5L * 1024 * 1024 * 1024, "5.0G")]
    public void SizesHaveBinaryUnits(long bytes, string text) => Assert.Equal(text, TopFrame.Size(bytes));
}
