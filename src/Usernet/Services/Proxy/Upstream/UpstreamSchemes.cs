using System.Collections.Concurrent;
using Usernet.Config;

namespace Usernet.Services.Proxy.Upstream;

/// <summary>
/// The HTTP upstream proxies that have asked for Negotiate or NTLM, and which of the two, so
/// that later connections to them send the first token with their first request instead of
/// waiting for the 407 (pre-emptive authentication, as browsers do once a proxy has asked).
/// For Kerberos that first token is the whole exchange, so a request whose body cannot be
/// sent twice (chunked, or larger than the proxy keeps) is authenticated on its only trip.
/// Bounded: a PAC script may name any number of proxies, and forgetting costs one 407.
/// </summary>
internal sealed class UpstreamSchemes
{
    public const int Limit = 256;

    private readonly ConcurrentDictionary<ProxyUri, string> _schemes = new();

    public int Count => _schemes.Count;

    /// <summary>"Negotiate" or "NTLM" if <paramref name="proxy"/> asked for it before; else null.</summary>
    public string? Of(ProxyUri proxy) => _schemes.TryGetValue(proxy, out string? scheme) ? scheme : null;

    public void Remember(ProxyUri proxy, string scheme)
    {
        if (_schemes.Count >= Limit && !_schemes.ContainsKey(proxy))
        {
            _schemes.Clear();
        }
        _schemes[proxy] = scheme;
    }
}
