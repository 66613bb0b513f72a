namespace Usernet.Services.Proxy;

/// <summary>
/// Why the proxy could not serve a request, as the guest hears it: <see cref="Status"/> (403 blocked,
/// 502 upstream or DNS failure, 504 timeout) and a message for the response body. Messages
/// name upstreams only by <see cref="Config.ProxyUri.ToString"/>, which masks passwords.
/// </summary>
internal sealed class ProxyException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
