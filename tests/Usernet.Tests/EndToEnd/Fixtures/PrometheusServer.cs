using System.Text.Json;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A real Prometheus server (Debian's prometheus package) scraping one target every second,
/// with its configuration and data in a temporary directory of its own and its web API on a
/// free loopback port. Killed by PID, and its directory removed, when disposed.
/// </summary>
internal sealed class PrometheusServer : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly ManagedProcess _process;
    private readonly string _directory;

    private PrometheusServer(ManagedProcess process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Starts Prometheus scraping http://<paramref name="target"/>/metrics (host:port) as the job "usernet".</summary>
    public static PrometheusServer Start(string target)
    {
        string directory = Directory.CreateTempSubdirectory("usernet-prometheus-").FullName;
        try
        {
            string config = Path.Combine(directory, "prometheus.yml");
            File.WriteAllText(config, $"""
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: usernet
                    static_configs:
                      - targets: ["{target}"]
                """);
            int port = Ports.Free();
            var process = ManagedProcess.Start("prometheus", [
                $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
            ]);
            var server = new PrometheusServer(process, directory, port);
            process.WaitUntilReady(() => server.Get("/-/ready").StartsWith("Prometheus Server is Ready", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            return server;
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>The value of the one series <paramref name="query"/> returns now through /api/v1/query, or null while it has none.</summary>
    public double? QueryOne(string query)
    {
        using var document = JsonDocument.Parse(Get("/api/v1/query?query=" + Uri.EscapeDataString(query)));
        var root = document.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException(root.ToString());
        }
        var result = root.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 1
            ? double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture)
            : null;
    }

    /// <summary>What Prometheus says of its targets (/api/v1/targets), for a failure's message.</summary>
    public string Targets() => Get("/api/v1/targets");

    private string Get(string path)
    {
        try
        {
            return Http.GetStringAsync($"http://127.0.0.1:{Port}{path}").GetAwaiter().GetResult();
        }
        catch (HttpRequestException)
        {
            return "";
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
