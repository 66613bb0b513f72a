using Usernet.Control;

namespace Usernet.Tests.Control;

/// <summary>The text exposition format 0.0.4, line by line, as Prometheus' parser reads it.</summary>
public sealed class PrometheusTextTests
{
    [Fact]
    public void AFamilyIsItsHelpAndTypeLinesThenItsSamples()
    {
        string text = new PrometheusText()
            .Counter("usernet_frames_total", "Frames.")
            .Sample(3, "direction", "from_guest")
            .Sample(4, "direction", "to_guest")
            .Gauge("usernet_links_open", "Links.")
            .Sample(1)
            .ToString();
        Assert.Equal(
            "# HELP usernet_frames_total Frames.\n" +
            "# TYPE usernet_frames_total counter\n" +
            "usernet_frames_total{direction=\"from_guest\"} 3\n" +
            "usernet_frames_total{direction=\"to_guest\"} 4\n" +
            "# HELP usernet_links_open Links.\n" +
            "# TYPE usernet_links_open gauge\n" +
            "usernet_links_open 1\n",
            text);
    }

    [Fact]
    public void LabelValuesEscapeBackslashQuoteAndLineFeed()
    {
        string text = new PrometheusText()
            .Gauge("usernet_x", "x")
            .Sample(1, "link", "qemu \"a\\b\"\nc", "reason", "plain é")
            .ToString();
        Assert.Contains("usernet_x{link=\"qemu \\\"a\\\\b\\\"\\nc\",reason=\"plain é\"} 1\n", text);
    }

    [Fact]
    public void HelpEscapesBackslashAndLineFeedButNotQuotes()
    {
        string text = new PrometheusText().Gauge("usernet_x", "a \"quoted\" back\\slash\nand more").ToString();
        Assert.StartsWith("# HELP usernet_x a \"quoted\" back\\\\slash\\nand more\n# TYPE usernet_x gauge\n", text);
    }

    [Fact]
    public void AFamilyWrittenTwiceIsABug()
    {
        var text = new PrometheusText().Counter("usernet_a_total", "a").Sample(1);
        Assert.Throws<InvalidOperationException>(() => text.Gauge("usernet_a_total", "again"));
    }

    [Theory]
    [InlineData("usernet_frames")]
    [InlineData("usernet_total_frames")]
    public void ACounterNameEndsInTotal(string name) =>
        Assert.Throws<ArgumentException>(() => new PrometheusText().Counter(name, "x"));

    [Theory]
    [InlineData("1abc", "ok")]
    [InlineData("usernet-x", "ok")]
    [InlineData("usernet_x", "__reserved")]
    [InlineData("usernet_x", "bad-label")]
    public void NamesOutsideTheGrammarAreRefused(string metric, string label) =>
        Assert.Throws<ArgumentException>(() => new PrometheusText().Gauge(metric, "x").Sample(1, label, "v"));

    [Fact]
    public void ASampleBeforeAnyFamilyIsABug() =>
        Assert.Throws<InvalidOperationException>(() => new PrometheusText().Sample(1));

    [Fact]
    public void AHistogramHasCumulativeBucketsInfSumAndCount()
    {
        string text = new PrometheusText()
            .HistogramFamily("usernet_dns_answer_duration_seconds", "Answer time.")
            .Histogram([0.001, 0.5], [2, 3], 0.75, 4)
            .ToString();
        Assert.Equal(
            "# HELP usernet_dns_answer_duration_seconds Answer time.\n" +
            "# TYPE usernet_dns_answer_duration_seconds histogram\n" +
            "usernet_dns_answer_duration_seconds_bucket{le=\"0.001\"} 2\n" +
            "usernet_dns_answer_duration_seconds_bucket{le=\"0.5\"} 3\n" +
            "usernet_dns_answer_duration_seconds_bucket{le=\"+Inf\"} 4\n" +
            "usernet_dns_answer_duration_seconds_sum 0.75\n" +
            "usernet_dns_answer_duration_seconds_count 4\n",
            text);
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(12345678901, "12345678901")]
    [InlineData(0.25, "0.25")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NaN, "NaN")]
    public void NumbersAreWrittenAsGoParsesThem(double value, string written) =>
        Assert.Equal(written, PrometheusText.Number(value));
}
