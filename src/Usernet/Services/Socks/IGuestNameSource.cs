using Usernet.Wire;

namespace Usernet.Services.Socks;

/// <summary>
/// Where the SOCKS server and <c>usernet ping</c> look up a name a client sent (socks5h):
/// Usernet's own DNS records, and under <c>usernet docker</c> the names of running containers.
/// </summary>
internal interface IGuestNameSource
{
    /// <summary>Adds the addresses of <paramref name="name"/> (lower case, no trailing dot) to <paramref name="addresses"/>.</summary>
    void Lookup(string name, List<IpAddress> addresses);
}
