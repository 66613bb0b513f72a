using System.Globalization;

namespace Usernet.Services.Proxy;

/// <summary>A host and port taken from a request target or Host field (RFC 9110 §4.2.1, §7.2).</summary>
internal readonly record struct ProxyTarget(string Host, int Port)
{
    /// <summary>host[:port] with a numeric port; <paramref name="defaultPort"/> when absent (0: a port is required).</summary>
    public static bool TryParseAuthority(string authority, int defaultPort, out ProxyTarget target)
    {
        target = default;
        string host = authority;
        string? port = null;
        if (authority.StartsWith('['))
        {
            int close = authority.IndexOf(']');
            if (close < 0)
            {
                return false;
            }
            host = authority[1..close];
            if (close + 1 < authority.Length)
            {
                if (authority[close + 1] != ':')
                {
                    return false;
                }
                port = authority[(close + 2)..];
            }
        }
        else if (authority.LastIndexOf(':') is var colon and >= 0)
        {
            host = authority[..colon];
            port = authority[(colon + 1)..];
        }
        if (host.Length == 0 || host.Length > 253 || host.Any(c => c <= ' ' || c is '/' or '@' or '?' or '#' or '\\' or '%'))
        {
            return false;
        }
        int number = defaultPort;
        if (port is not null && (port.Length is 0 or > 5 || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out number)))
        {
            return false;
        }
        if (number is < 1 or > 65535)
        {
            return false;
        }
        target = new ProxyTarget(host, number);
        return true;
    }

    /// <summary>The authority as written in a CONNECT or Host: [v6]:port for IPv6.</summary>
    public string Authority => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    public override string ToString() => Authority;
}
