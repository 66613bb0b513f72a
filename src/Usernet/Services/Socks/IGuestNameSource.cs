using Usernet.Wire;

namespace Usernet.Services.Socks;

/// <summary>
/// Where the SOCKS server looks up a name a client sent (socks5h): Usernet's own DNS records
/// now, and the names of containers once the Docker side adds its source.
/// </summary>
internal interface IGuestNameSource
{
    /// <summary>Adds the addresses of <paramref name="name"/> (lower case, no trailing dot) to <paramref name="addresses"/>.</summary>
    void Lookup(string name, List<IpAddress> addresses);
}
