namespace Usernet.Services.Proxy;

/// <summary>
/// Why the proxy could not serve a request: <see cref="Status"/> (403 blocked, 502 upstream or
/// DNS failure, 504 timeout), <see cref="Exception.Message"/> for the host's log, and
/// <see cref="GuestMessage"/>, what the guest hears in the response body and X-Usernet-Error.
/// The guest is told what went wrong, never with what: the upstream proxy's address, user and
/// password, the PAC script's location, and what the host's GSSAPI said stay in the log. Log
/// messages name upstreams only by <see cref="Config.ProxyUri.ToString"/>, which masks passwords.
/// </summary>
internal sealed class ProxyException(int status, string message, string? guestMessage = null) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>What the guest is told; the log's message when that names nothing of the host's.</summary>
    public string GuestMessage { get; } = guestMessage ?? message;

    /// <summary>
    /// A failure of the upstream proxy (502): <paramref name="detail"/> for the log names it;
    /// the guest hears "the upstream proxy " and <paramref name="what"/>, which must not.
    /// </summary>
    public static ProxyException Upstream(string detail, string what) => new(502, detail, "the upstream proxy " + what);
}
