using System.Text;
using Usernet.Config;
using Usernet.Http;

namespace Usernet.Services.Proxy.Upstream;

/// <summary>
/// Our side of the authentication with one HTTP upstream proxy, for one request (CONNECT or
/// plain) and the 407 answers it meets: Basic from the proxy URL's user and password; when the
/// proxy offers Negotiate or NTLM, that exchange (RFC 4559), one leg per 407, through
/// <see cref="NegotiateSession"/>. Such an exchange authenticates the connection it runs on,
/// not the request, so every leg must go on the same connection. Once a proxy has asked for
/// Negotiate or NTLM (<see cref="UpstreamSchemes"/>), a new connection to it sends the first
/// token with its first request (<see cref="Preempt"/>).
/// Basic, nothing or a pre-emptive token -> (407 offering Negotiate or NTLM) -> legs -> accepted, or refused.
/// </summary>
internal sealed class ProxyAuthentication(ProxyUri proxy, string? initial, UpstreamSchemes? schemes = null) : IDisposable
{
    /// <summary>407 answers to one request at most: Basic, then a multi-leg Negotiate or NTLM exchange.</summary>
    public const int MaxRounds = 4;

    private NegotiateSession? _negotiate;
    private int _rounds;

    /// <summary>Whether the current exchange began with a pre-emptive token, which the proxy may refuse once without ending it.</summary>
    private bool _preempted;

    /// <summary>The Proxy-Authorization field to send with the next leg; null for none.</summary>
    public string? Authorization { get; private set; } = initial;

    /// <summary>Whether a Negotiate or NTLM exchange has begun: its legs are bound to one connection.</summary>
    public bool IsConnectionBound => _negotiate is not null;

    /// <summary>Whether the first request already carried a Negotiate or NTLM token (<see cref="Preempt"/>).</summary>
    public bool BeganPreemptively { get; private set; }

    /// <summary>"Negotiate" or "NTLM" once such an exchange has begun.</summary>
    public string? Scheme => _negotiate?.Scheme;

    /// <summary>
    /// For a new connection to a proxy that asked for Negotiate or NTLM before: the first token
    /// goes with the first request. When the host cannot make one (no ticket, say), the request
    /// goes as it would have, and the proxy's 407 brings the error that says why.
    /// </summary>
    public void Preempt()
    {
        if (_negotiate is not null || schemes?.Of(proxy) is not { } scheme)
        {
            return;
        }
        try
        {
            _negotiate = NegotiateSession.Start(scheme, proxy.Host, proxy.User, proxy.Password);
            Authorization = _negotiate.Next(null);
            _preempted = true;
            BeganPreemptively = true;
        }
        catch (ProxyException)
        {
            _negotiate?.Dispose();
            _negotiate = null;
        }
    }

    /// <summary>
    /// Takes a 407 and sets the next <see cref="Authorization"/>; throws a 502
    /// <see cref="ProxyException"/> saying why when the proxy refused what it had, offers nothing
    /// we can do, or the host cannot do Negotiate or NTLM.
    /// </summary>
    public void Answer(HttpResponseHead response)
    {
        if (++_rounds >= MaxRounds)
        {
            throw ProxyException.Upstream($"the upstream proxy {proxy} refused authentication: still 407 after {MaxRounds} rounds",
                $"refused authentication: still 407 after {MaxRounds} rounds");
        }
        string? challenge = response.Headers.GetAll("Proxy-Authenticate")
            .FirstOrDefault(c => c.StartsWith("Negotiate", StringComparison.OrdinalIgnoreCase) || c.StartsWith("NTLM", StringComparison.OrdinalIgnoreCase));
        if (challenge is null)
        {
            throw Refused(response);
        }
        string scheme = challenge.StartsWith("NTLM", StringComparison.OrdinalIgnoreCase) ? "NTLM" : "Negotiate";
        string token = challenge.Length > scheme.Length ? challenge[scheme.Length..].Trim() : "";
        schemes?.Remember(proxy, scheme);
        if (_negotiate is not null && token.Length == 0)
        {
            if (!_preempted)
            {
                // The proxy started over: it did not accept what we sent.
                throw Refused(response);
            }
            // A pre-emptive token refused (made for another scheme, or from a ticket since
            // replaced): one exchange more, from the proxy's own offer.
            _preempted = false;
            _negotiate.Dispose();
            _negotiate = null;
        }
        try
        {
            _negotiate ??= NegotiateSession.Start(scheme, proxy.Host, proxy.User, proxy.Password);
            Authorization = _negotiate.Next(token.Length == 0 ? null : token);
        }
        catch (ProxyException e)
        {
            throw ProxyException.Upstream($"the upstream proxy {proxy} asks for {scheme} authentication: {e.Message}",
                $"asks for {scheme} authentication: {e.GuestMessage}");
        }
    }

    /// <summary>The 502 for a 407 we cannot answer: who refused, as which user (the log only), and what it offers.</summary>
    public ProxyException Refused(HttpResponseHead response)
    {
        string offers = string.Join(", ", response.Headers.GetAll("Proxy-Authenticate").Select(c => c.Split(' ')[0]));
        return ProxyException.Upstream(
            $"the upstream proxy {proxy} refused authentication ({response.Status} {response.Reason}"
                + (proxy.User is null ? "; its URL has no user and password" : $" for user {proxy.User}") + $"; it offers: {offers})",
            $"refused authentication ({response.Status}; it offers: {offers})");
    }

    /// <summary>Basic (RFC 7617) from the proxy URL's user and password.</summary>
    public static string? BasicAuthorization(ProxyUri proxy) =>
        proxy.User is null ? null : "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{proxy.User}:{proxy.Password}"));

    public void Dispose() => _negotiate?.Dispose();
}
