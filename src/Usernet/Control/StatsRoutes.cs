using Usernet.Platform;

namespace Usernet.Control;

/// <summary>The control API of the counters: <c>GET /stats</c>, read on the loop thread.</summary>
internal static class StatsRoutes
{
    public static void Map(ControlServer control, EventLoop loop, InstanceStats stats) =>
        control.Map("GET", "/stats", async _ => ControlResponse.Json(await loop.InvokeAsync(_ => stats.Write())));
}
