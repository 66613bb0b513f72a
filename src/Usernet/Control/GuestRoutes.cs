using Usernet.Platform;
using Usernet.Stack;

namespace Usernet.Control;

/// <summary>
/// <c>GET /guests</c>: the guests' addresses the stack knows now, each with its MAC and link
/// (<c>{"guests": [{"link": "tap0", "mac": "...", "ip": "192.168.65.3"}]}</c>), read on the
/// loop thread from the neighbour table, sorted by link then address.
/// </summary>
internal static class GuestRoutes
{
    public static void Map(ControlServer control, EventLoop loop, NetworkStack stack) =>
        control.Map("GET", "/guests", async _ => ControlResponse.Json(await loop.InvokeAsync(_ => JsonText.Build(w =>
        {
            w.WriteStartArray("guests");
            foreach (var (address, neighbour) in stack.Neighbours.All()
                .OrderBy(n => n.Neighbour.Link.Description, StringComparer.Ordinal).ThenBy(n => n.Address.IsV4 ? 0 : 1).ThenBy(n => n.Address.Value))
            {
                w.WriteStartObject();
                w.WriteString("link", neighbour.Link.Description);
                w.WriteString("mac", neighbour.Mac.ToString());
                w.WriteString("ip", address.ToString());
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }))));
}
