using Usernet.Services.Proxy;
using Usernet.Stack.Egress;

namespace Usernet.Control;

/// <summary>
/// The control API of the egress policy: <c>GET /policy</c> shows the policy in force with its
/// verdicts by rule (as <c>egress</c> in <c>/stats</c>); <c>POST /policy/reload</c> reads the
/// settings again (the same reload as <c>/proxy/reload</c>, SIGHUP and a change of the file):
/// 200 with the changed sections and the policy now in force, or 400 with the reasons it was
/// refused, the policy in force staying as it was.
/// </summary>
internal static class PolicyRoutes
{
    public static void Map(ControlServer control, ProxyService reloader, EgressGate egress)
    {
        control.Map("GET", "/policy", _ => ControlResponse.Json(JsonText.Build(egress.WriteJson)));
        control.Map("POST", "/policy/reload", _ => ProxyRoutes.ReloadAsync(reloader, "usernet policy reload", w =>
        {
            w.WriteStartObject("egress");
            egress.WriteJson(w);
            w.WriteEndObject();
        }));
    }
}
