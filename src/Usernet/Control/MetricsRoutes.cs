using Usernet.Platform;

namespace Usernet.Control;

/// <summary>
/// <c>GET /metrics</c>: the counters in Prometheus' text format, built on the loop thread at
/// each scrape. Mapped on the control socket, and alone on the metrics.listen listener.
/// </summary>
internal static class MetricsRoutes
{
    public static void Map(ControlServer control, EventLoop loop, InstanceStats stats) =>
        control.Map("GET", "/metrics", async _ => new ControlResponse(200, await loop.InvokeAsync(_ => stats.WritePrometheus()), PrometheusText.ContentType));
}
