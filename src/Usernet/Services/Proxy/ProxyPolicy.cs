using System.Net;
using Usernet.Config;
using Usernet.Services.Proxy.Pac;

namespace Usernet.Services.Proxy;

/// <summary>
/// Where guest traffic goes, compiled from one settings section: <c>containersProxy</c> when
/// its mode is manual, else <c>proxy</c> (Docker Desktop's containers fall back the same way).
/// Mode <c>system</c> takes the Usernet process's HTTP_PROXY, HTTPS_PROXY and NO_PROXY; mode
/// <c>manual</c> takes http, https and exclude, or a PAC script (embeddedPac, else pac), which
/// then decides alone. A PAC that cannot be fetched or compiled blocks everything, as Docker's
/// air-gapped mode does, and <see cref="PacError"/> says why. Immutable: a reload builds a new one.
/// </summary>
internal sealed class ProxyPolicy : IDisposable
{
    /// <summary>The section's http and https URLs with credentials: a PAC route to the same host and port borrows them.</summary>
    private readonly ProxyUri[] _credentials = [];

    /// <summary>Why the PAC script is not usable, as a blocked guest is told: without its location.</summary>
    private readonly string? _pacGuestError;

    private ProxyPolicy(string section, ProxyUri? http, ProxyUri? https, NoProxyList exclude, PacScript? pac, PacException? pacError, PortSet transparentPorts, string source,
        ProxyUri[]? credentials = null)
    {
        _credentials = credentials ?? [];
        Section = section;
        Http = http;
        Https = https;
        Exclude = exclude;
        Pac = pac;
        PacError = pacError?.Message;
        _pacGuestError = pacError?.GuestMessage;
        TransparentPorts = transparentPorts;
        Source = source;
    }

    /// <summary>"proxy" or "containersProxy": the section in force.</summary>
    public string Section { get; }

    /// <summary>The upstream for plain HTTP; null: direct.</summary>
    public ProxyUri? Http { get; }

    /// <summary>The upstream for CONNECT and tunnels; null: direct.</summary>
    public ProxyUri? Https { get; }

    public NoProxyList Exclude { get; }

    public PacScript? Pac { get; }

    /// <summary>Why the PAC script is not usable; everything is blocked while it is set.</summary>
    public string? PacError { get; }

    public PortSet TransparentPorts { get; }

    /// <summary>Where the upstreams came from: "manual", "system (environment)", "PAC ...".</summary>
    public string Source { get; }

    public static ProxyPolicy Direct { get; } = new("proxy", null, null, NoProxyList.Empty, null, null, PortSet.None, "none");

    public static ProxyPolicy Build(Settings settings, IPacHost pacHost, Func<string, string?> environment)
    {
        bool containers = settings.ContainersProxy.Mode == ProxyMode.Manual;
        ProxySettings section = containers ? settings.ContainersProxy : settings.Proxy;
        string name = containers ? "containersProxy" : "proxy";
        var ports = settings.ContainersProxy.TransparentPorts;
        if (section.Mode == ProxyMode.System)
        {
            if (section.Http is not null || section.Https is not null || section.Pac.Length > 0 || section.EmbeddedPac.Length > 0 || section.Exclude.Count > 0)
            {
                Log.Warn($"{name}.mode is system, so {name}.http, https, exclude, pac and embeddedPac are ignored; set {name}.mode to manual to use them");
            }
            var http = FromEnvironment(environment, "HTTP_PROXY");
            var https = FromEnvironment(environment, "HTTPS_PROXY");
            string noProxy = environment("NO_PROXY") ?? environment("no_proxy") ?? "";
            var exclude = new NoProxyList(noProxy.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries));
            return new ProxyPolicy(name, http, https, exclude, null, null, ports, "system (HTTP_PROXY, HTTPS_PROXY, NO_PROXY of the Usernet process)");
        }
        string pacText = section.EmbeddedPac;
        string pacName = $"{name}.embeddedPac";
        PacScript? pac = null;
        PacException? pacError = null;
        try
        {
            if (pacText.Length == 0 && section.Pac.Length > 0)
            {
                pacName = Redaction.Redact(section.Pac);
                pacText = PacSource.Load(section.Pac);
            }
            if (pacText.Length > 0)
            {
                pac = PacScript.Compile(pacText, pacHost);
            }
        }
        catch (PacException e)
        {
            pacError = e;
            Log.Error($"{name}: {e.Message}; until it is fixed, every proxied connection is blocked");
        }
        if (pac is not null || pacError is not null)
        {
            // A PAC script can name a proxy but not its password: that comes from http or https.
            ProxyUri[] credentials = new[] { section.Http, section.Https }.OfType<ProxyUri>().Where(u => u.User is not null).ToArray();
            return new ProxyPolicy(name, null, null, NoProxyList.Empty, pac, pacError, ports, $"PAC {pacName}", credentials);
        }
        return new ProxyPolicy(name, section.Http, section.Https, new NoProxyList(section.Exclude), null, null, ports, "manual");
    }

    /// <summary>The upper- or lower-case variable as a proxy URL; a bare host:port is taken as http://, as curl and Go do.</summary>
    private static ProxyUri? FromEnvironment(Func<string, string?> environment, string name)
    {
        string? text = environment(name) ?? environment(name.ToLowerInvariant());
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }
        if (ProxyUri.TryParse(text.Trim(), out var uri, out string? error))
        {
            return uri;
        }
        Log.Warn($"{name} is not a valid proxy URL ({error}); it is ignored");
        return null;
    }

    /// <summary>
    /// The routes to try, in order, for a request to <paramref name="host"/>:<paramref name="port"/>:
    /// scheme "http" for plain HTTP, "https" for CONNECT and tunnels. <paramref name="url"/> is
    /// what a PAC script sees (the request's URL; for a tunnel https://host[:port]/).
    /// </summary>
    public async Task<IReadOnlyList<ProxyRoute>> ChooseAsync(string scheme, string host, int port, string? url = null, IPAddress? knownAddress = null)
    {
        if (PacError is not null)
        {
            // The log has PacError; the guest is not told where the script is.
            return [ProxyRoute.Reject($"the PAC script is not usable: {_pacGuestError}")];
        }
        if (Pac is not null)
        {
            url ??= scheme == "https" ? (port == 443 ? $"https://{host}/" : $"https://{host}:{port}/") : (port == 80 ? $"http://{host}/" : $"http://{host}:{port}/");
            string result;
            try
            {
                result = await Pac.FindProxyAsync(url, host).ConfigureAwait(false);
            }
            catch (PacException e)
            {
                Log.WarnLimited("pac-failed", $"{Section}: {e.Message}; {host} is blocked");
                return [ProxyRoute.Reject($"the PAC script failed for {host}")];
            }
            var routes = ProxyRoute.ParsePacResult(result, out string? error);
            if (routes is null)
            {
                Log.WarnLimited("pac-result", $"{Section}: the PAC script's answer for {host} cannot be used ({error}); it is blocked");
                return [ProxyRoute.Reject($"the PAC script's answer for {host} cannot be used")];
            }
            return routes.Select(WithCredentials).ToList();
        }
        if (Exclude.Matches(host, port, knownAddress))
        {
            return [ProxyRoute.Direct];
        }
        var upstream = scheme == "http" ? Http : Https;
        return upstream is null ? [ProxyRoute.Direct] : [ProxyRoute.Through(upstream)];
    }

    /// <summary>
    /// Whether a guest connection to <paramref name="address"/>:<paramref name="port"/> may need
    /// the upstream, decided on the loop thread before its first byte: false sends it straight
    /// on the ordinary path. <paramref name="name"/> is what the guest resolved it from, if known.
    /// </summary>
    public bool MayProxy(IPAddress address, string? name, int port)
    {
        if (!TransparentPorts.Contains((ushort)port))
        {
            return false;
        }
        if (Pac is not null || PacError is not null)
        {
            return true;
        }
        if ((port == 80 ? Http : Https) is null)
        {
            return false;
        }
        return !Exclude.Matches(address.ToString(), port) && (name is null || !Exclude.Matches(name, port, address));
    }

    private ProxyRoute WithCredentials(ProxyRoute route)
    {
        if (route.Upstream is not { User: null } upstream)
        {
            return route;
        }
        var known = _credentials.FirstOrDefault(c => c.IsSocks == upstream.IsSocks
            && string.Equals(c.Host, upstream.Host, StringComparison.OrdinalIgnoreCase) && c.Port == upstream.Port);
        return known is null ? route : ProxyRoute.Through(upstream with { User = known.User, Password = known.Password, Scheme = known.Scheme });
    }

    public void Dispose() => Pac?.Dispose();
}
