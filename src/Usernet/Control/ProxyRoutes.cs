using Usernet.Services.Proxy;

namespace Usernet.Control;

/// <summary>
/// The control API of the proxy: <c>GET /proxy</c> shows the policy in force (passwords
/// masked), <c>POST /proxy/reload</c> reads the settings again: 200 with the changed sections,
/// or 400 with the reasons it was refused (the old settings stay).
/// </summary>
internal static class ProxyRoutes
{
    public static void Map(ControlServer control, ProxyService proxy)
    {
        control.Map("GET", "/proxy", _ => ControlResponse.Json(JsonText.Build(w =>
        {
            var policy = proxy.Policy;
            w.WriteString("section", policy.Section);
            w.WriteString("source", policy.Source);
            w.WriteString("http", policy.Http?.ToString() ?? "");
            w.WriteString("https", policy.Https?.ToString() ?? "");
            w.WriteString("pacError", policy.PacError ?? "");
            w.WriteString("transparentPorts", policy.TransparentPorts.ToString());
            w.WriteString("summary", ProxyService.Describe(policy));
        })));
        control.Map("POST", "/proxy/reload", _ => ReloadAsync(proxy, "usernet proxy reload"));
    }

    /// <summary>
    /// Reads the settings again, for <c>POST /proxy/reload</c> and <c>POST /policy/reload</c> alike:
    /// one reload applies every section that can change at run time.
    /// </summary>
    public static async Task<ControlResponse> ReloadAsync(ProxyService proxy, string why, Action<System.Text.Json.Utf8JsonWriter>? more = null)
    {
        var result = await Task.Run(() => proxy.Reload(why));
        if (!result.Applied)
        {
            throw new ControlRequestException(400, "the settings were not reloaded, the old ones stay: " + string.Join("; ", result.Errors));
        }
        return ControlResponse.Json(JsonText.Build(w =>
        {
            w.WriteStartArray("changed");
            foreach (string section in result.Changed)
            {
                w.WriteStringValue(section);
            }
            w.WriteEndArray();
            w.WriteString("proxy", ProxyService.Describe(proxy.Policy));
            more?.Invoke(w);
        }));
    }
}
