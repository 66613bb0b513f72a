using Usernet.Platform;
using Usernet.Services.Dhcp;
using Usernet.Stack;
using Usernet.Stack.Tcp;

namespace Usernet.Control;

/// <summary>
/// What an instance is and holds: <c>GET /info</c> (its name, process and addresses),
/// <c>GET /leases</c> (the DHCP leases, by address) and <c>GET /connections</c> (the guests' TCP
/// connections). The tables are read on the loop thread.
/// </summary>
internal static class InfoRoutes
{
    public static void Map(ControlServer control, EventLoop loop, string instance, StackOptions network, DhcpLeasePool leases, TcpTransport tcp)
    {
        control.Map("GET", "/info", _ => ControlResponse.Json(JsonText.Build(w =>
        {
            w.WriteString("instance", instance);
            w.WriteNumber("pid", Environment.ProcessId);
            w.WriteString("gateway", network.Gateway.ToString());
            w.WriteString("host", network.Host.ToString());
        })));
        control.Map("GET", "/leases", async _ => ControlResponse.Json(await loop.InvokeAsync(_ =>
            JsonText.BuildArray(leases.Leases.OrderBy(l => l.Address), (w, lease) =>
            {
                w.WriteString("address", lease.Address.ToString());
                w.WriteString("mac", lease.Client.ToString());
                w.WriteString("state", lease.State.ToString().ToLowerInvariant());
            }))));
        control.Map("GET", "/connections", async _ => ControlResponse.Json(await loop.InvokeAsync(_ =>
            JsonText.BuildArray(tcp.Connections, (w, connection) =>
            {
                w.WriteString("guest", connection.Key.Guest.ToString());
                w.WriteString("remote", connection.Key.Remote.ToString());
                w.WriteString("state", connection.Describe());
            }))));
    }
}
