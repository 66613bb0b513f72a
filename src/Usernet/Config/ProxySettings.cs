namespace Usernet.Config;

/// <summary>
/// An upstream proxy configuration: <c>proxy</c> for Usernet's own connections and the HTTP
/// proxy on the gateway, <see cref="ContainersProxySettings"/> for what containers use.
/// </summary>
internal class ProxySettings(SettingValues values, ProxyKeys keys)
{
    public ProxyMode Mode { get; } = values.Get(keys.Mode);

    /// <summary>null: none.</summary>
    public ProxyUri? Http { get; } = values.Get(keys.Http);

    /// <summary>null: none.</summary>
    public ProxyUri? Https { get; } = values.Get(keys.Https);

    /// <summary>NO_PROXY entries: names, .domains, CIDRs, host:port, "*".</summary>
    public IReadOnlyList<string> Exclude { get; } = values.Get(keys.Exclude);

    /// <summary>A PAC URL or path; "" for none.</summary>
    public string Pac { get; } = values.Get(keys.Pac);

    /// <summary>A PAC script's text; "" for none.</summary>
    public string EmbeddedPac { get; } = values.Get(keys.EmbeddedPac);
}
