using Usernet.Config;

namespace Usernet.Services.Proxy;

/// <summary>One way to reach a destination, as a PAC result lists them (`PROXY h:p; SOCKS5 h:p; DIRECT`).</summary>
internal enum ProxyRouteKind
{
    Direct,

    /// <summary>An HTTP proxy (http:// or https:// to the proxy itself): absolute-form requests and CONNECT.</summary>
    Http,

    /// <summary>A SOCKS5 proxy (RFC 1928); socks5h sends names, socks5 addresses.</summary>
    Socks,

    /// <summary>Docker's `PROXY reject.docker.internal:ANY`: the connection is refused.</summary>
    Reject,
}

/// <summary>
/// A way to reach a destination; <see cref="Upstream"/> is the proxy for Http and Socks.
/// <see cref="Reason"/>, why a Reject blocks, goes to the guest: it never quotes the PAC script,
/// its location or its answer (the log does).
/// </summary>
internal sealed record ProxyRoute(ProxyRouteKind Kind, ProxyUri? Upstream = null, string? Reason = null)
{
    /// <summary>The host name Docker Desktop gives PAC scripts for blocking: any port.</summary>
    public const string RejectHost = "reject.docker.internal";

    public static readonly ProxyRoute Direct = new(ProxyRouteKind.Direct);

    public static ProxyRoute Reject(string reason) => new(ProxyRouteKind.Reject, Reason: reason);

    public static ProxyRoute Through(ProxyUri upstream) =>
        new(upstream.IsSocks ? ProxyRouteKind.Socks : ProxyRouteKind.Http, upstream);

    /// <summary>For logs and error bodies: the upstream with its password masked.</summary>
    public override string ToString() => Kind switch
    {
        ProxyRouteKind.Direct => "DIRECT",
        ProxyRouteKind.Reject => "blocked",
        _ => Upstream!.ToString(),
    };

    /// <summary>
    /// Parses FindProxyForURL's result: entries separated by ';', each DIRECT, PROXY h:p,
    /// HTTP h:p, HTTPS h:p, SOCKS h:p, SOCKS5 h:p or SOCKS4 h:p (taken as SOCKS5). Entries that
    /// cannot be read are skipped; null when none can (the caller blocks and says why).
    /// </summary>
    public static List<ProxyRoute>? ParsePacResult(string result, out string? error)
    {
        error = null;
        var routes = new List<ProxyRoute>();
        foreach (string raw in result.Split(';'))
        {
            string[] words = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }
            string keyword = words[0].ToUpperInvariant();
            if (keyword == "DIRECT" && words.Length == 1)
            {
                routes.Add(Direct);
                continue;
            }
            if (words.Length != 2)
            {
                error = $"\"{raw.Trim()}\" is not DIRECT or KEYWORD host:port";
                continue;
            }
            string address = words[1];
            if (IsRejectHost(address))
            {
                routes.Add(Reject($"the PAC script sends this destination to {RejectHost}"));
                continue;
            }
            string? scheme = keyword switch
            {
                "PROXY" or "HTTP" => "http",
                "HTTPS" => "https",
                "SOCKS" or "SOCKS5" or "SOCKS4" => "socks5",
                _ => null,
            };
            if (scheme is null || !ProxyUri.TryParse($"{scheme}://{address}", out var uri, out string? problem))
            {
                error = $"\"{raw.Trim()}\" is not a proxy the PAC syntax knows";
                continue;
            }
            routes.Add(Through(uri));
        }
        if (routes.Count == 0)
        {
            error ??= "FindProxyForURL returned no route";
            return null;
        }
        return routes;
    }

    /// <summary>Docker's block: its host with or without a port, and the port may be a word (":ANY"), so it is not read.</summary>
    private static bool IsRejectHost(string address) =>
        address.StartsWith(RejectHost, StringComparison.OrdinalIgnoreCase)
        && (address.Length == RejectHost.Length || address[RejectHost.Length] == ':');
}
