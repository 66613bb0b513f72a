using Usernet.Stack;

namespace Usernet.Control;

/// <summary>The control API's <c>GET /info</c>: which instance this is, its process and its addresses.</summary>
internal static class InfoRoutes
{
    public static void Map(ControlServer control, string instance, StackOptions network) =>
        control.Map("GET", "/info", _ => ControlResponse.Json(JsonText.Build(w =>
        {
            w.WriteString("instance", instance);
            w.WriteNumber("pid", Environment.ProcessId);
            w.WriteString("gateway", network.Gateway.ToString());
            w.WriteString("host", network.Host.ToString());
        })));
}
