using Usernet.Platform;
using Usernet.Services.Dhcp;

namespace Usernet.Control;

/// <summary>The control API of the DHCP server: <c>GET /leases</c> lists its leases by address, read on the loop thread.</summary>
internal static class LeaseRoutes
{
    public static void Map(ControlServer control, EventLoop loop, DhcpLeasePool pool) =>
        control.Map("GET", "/leases", async _ => ControlResponse.Json(await loop.InvokeAsync(_ => JsonText.BuildArray(w =>
        {
            foreach (var lease in pool.Leases.OrderBy(l => l.Address))
            {
                w.WriteStartObject();
                w.WriteString("address", lease.Address.ToString());
                w.WriteString("mac", lease.Client.ToString());
                w.WriteString("state", lease.State.ToString().ToLowerInvariant());
                w.WriteEndObject();
            }
        }))));
}
