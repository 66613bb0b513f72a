using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// The Prometheus metrics of a running instance that has carried a guest's traffic: checked by
/// promtool (Debian's prometheus package), and scraped by a real Prometheus server over
/// metrics.listen and queried through its HTTP API.
/// </summary>
public sealed class MetricsTests
{
    private const string Host = "192.168.65.254";

    /// <summary>An instance whose metrics listener is on a free loopback port; the address it printed for it.</summary>
    private static (GuestSession Session, string Endpoint) StartWithMetricsListener()
    {
        string endpoint = $"127.0.0.1:{Ports.Free()}";
        var session = GuestSession.Start("--set", $"metrics.listen={endpoint}");
        Assert.Contains($"usernet: Prometheus metrics on http://{endpoint}/metrics", session.Stderr);
        return (session, endpoint);
    }

    /// <summary>A guest fetches a page from nginx on the host's loopback, and asks the gateway's DNS for a name.</summary>
    private static void CarryTraffic(GuestSession session, Nginx nginx)
    {
        var fetched = session.Exec(["curl", "-sS", "--max-time", "10", $"http://{Host}:{nginx.Port}/"]);
        Assert.True(fetched.ExitCode == 0, fetched.Stderr);
        Assert.Equal("hello from nginx\n", fetched.Stdout);
        var dug = session.Exec(["dig", "+short", "+time=2", "+tries=1", "@192.168.65.1", "host.docker.internal"]);
        Assert.Equal(Host, dug.Stdout.Trim());
    }

    [RootFact]
    public void PromtoolPassesTheMetricsOfAnInstanceThatCarriedTraffic()
    {
        using var nginx = Nginx.Start();
        var (session, endpoint) = StartWithMetricsListener();
        using var _ = session;
        CarryTraffic(session, nginx);

        var metrics = ProcessRunner.Run(TestEnvironment.UsernetBinary, "stats", "--prometheus", "--instance", session.Instance);
        Assert.True(metrics.ExitCode == 0, metrics.Stderr);
        var check = ProcessRunner.Run("promtool", ["check", "metrics"], TimeSpan.FromSeconds(30), stdin: metrics.Stdout);
        Assert.True(check.ExitCode == 0, $"promtool: {check.Stdout}{check.Stderr}\n{metrics.Stdout}");
        Assert.Matches(@"usernet_bytes_total\{proto=""tcp"",direction=""to_guest""\} [1-9]", metrics.Stdout);
        Assert.Matches(@"usernet_dns_answers_total\{source=""local""\} [1-9]", metrics.Stdout);

        // The TCP listener serves the same, with the content type of the text format 0.0.4.
        var scraped = ProcessRunner.Run("curl", "-sS", "-w", "%{content_type}", "--max-time", "10", $"http://{endpoint}/metrics");
        Assert.True(scraped.ExitCode == 0, scraped.Stderr);
        Assert.EndsWith("\ntext/plain; version=0.0.4; charset=utf-8", scraped.Stdout.TrimEnd());
        Assert.Contains("# TYPE usernet_flows_total counter\n", scraped.Stdout);
        // It serves nothing else: the control API stays on the private unix socket.
        var stats = ProcessRunner.Run("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", $"http://{endpoint}/stats");
        Assert.Equal("404", stats.Stdout.Trim());
    }

    [RootFact]
    public void APrometheusServerScrapesTheMetricsListener()
    {
        using var nginx = Nginx.Start();
        var (session, endpoint) = StartWithMetricsListener();
        using var _ = session;
        using var prometheus = PrometheusServer.Start(endpoint);
        CarryTraffic(session, nginx);

        const string query = "usernet_bytes_total{job=\"usernet\",proto=\"tcp\",direction=\"to_guest\"}";
        double? value = null;
        // A scrape a second: the first after the traffic comes within a few.
        Assert.True(Wait.Until(() => (value = prometheus.QueryOne(query)) > 0, 30), $"{query} is {value}; targets: {prometheus.Targets()}");
    }
}
