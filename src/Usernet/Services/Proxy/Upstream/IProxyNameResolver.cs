using System.Net;

namespace Usernet.Services.Proxy.Upstream;

/// <summary>Resolves the names the proxy connects to.</summary>
internal interface IProxyNameResolver
{
    /// <summary>The addresses of <paramref name="host"/>, preferred first; a <see cref="ProxyException"/> (502) that names the DNS failure otherwise.</summary>
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancel);
}
