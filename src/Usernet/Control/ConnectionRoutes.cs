using Usernet.Platform;
using Usernet.Stack.Tcp;

namespace Usernet.Control;

/// <summary>The control API of the guests' TCP connections: <c>GET /connections</c>, read on the loop thread.</summary>
internal static class ConnectionRoutes
{
    public static void Map(ControlServer control, EventLoop loop, TcpTransport tcp) =>
        control.Map("GET", "/connections", async _ => ControlResponse.Json(await loop.InvokeAsync(_ => JsonText.BuildArray(w =>
        {
            foreach (var connection in tcp.Connections)
            {
                w.WriteStartObject();
                w.WriteString("guest", connection.Key.Guest.ToString());
                w.WriteString("remote", connection.Key.Remote.ToString());
                w.WriteString("state", connection.Describe());
                w.WriteEndObject();
            }
        }))));
}
