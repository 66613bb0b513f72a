using Usernet.Wire;

namespace Usernet.Services.Proxy;

/// <summary>A host and port taken from a request target or Host field (RFC 9110 §4.2.1, §7.2).</summary>
internal readonly record struct ProxyTarget(string Host, int Port)
{
    /// <summary>
    /// host[:port] or [IPv6][:port] by <see cref="HostPort"/>'s rules; <paramref name="defaultPort"/>
    /// when the port is absent (0: a port is required).
    /// </summary>
    public static bool TryParseAuthority(string authority, int defaultPort, out ProxyTarget target)
    {
        target = default;
        var options = defaultPort == 0 ? HostPortOptions.None : HostPortOptions.PortOptional;
        if (!HostPort.TryParse(authority, options, out var parsed, out _))
        {
            return false;
        }
        target = new ProxyTarget(parsed.Host, parsed.Port == 0 ? defaultPort : parsed.Port);
        return true;
    }

    /// <summary>The authority as written in a CONNECT or Host: [v6]:port for IPv6.</summary>
    public string Authority => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    public override string ToString() => Authority;
}
