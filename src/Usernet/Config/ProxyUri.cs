using System.Diagnostics.CodeAnalysis;
using Usernet.Wire;

namespace Usernet.Config;

/// <summary>
/// An upstream proxy: <c>scheme://[user[:password]@]host[:port]</c> with scheme http, https,
/// socks5 or socks5h (socks5h resolves names at the proxy). Parsed by hand so that no error
/// message can quote the password. <see cref="ToString"/> masks the password; only the code
/// that talks to the proxy reads <see cref="Password"/>.
/// </summary>
internal sealed record ProxyUri(string Scheme, string Host, ushort Port, string? User, string? Password)
{
    private static readonly string[] Schemes = ["http", "https", "socks5", "socks5h"];

    public bool IsSocks => Scheme.StartsWith("socks5", StringComparison.Ordinal);

    /// <summary>The scheme's usual port, as Go's proxy support (and so Docker) assumes.</summary>
    public static ushort DefaultPort(string scheme) => scheme switch
    {
        "http" => 80,
        "https" => 443,
        _ => 1080,
    };

    public static bool TryParse(string text, [NotNullWhen(true)] out ProxyUri? uri, [NotNullWhen(false)] out string? error)
    {
        uri = null;
        error = Parse(text, out uri);
        return error is null;
    }

    private static string? Parse(string text, out ProxyUri? uri)
    {
        uri = null;
        if (text.Any(char.IsWhiteSpace))
        {
            return "it contains white space";
        }
        int schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return "it needs a scheme: http://, https://, socks5:// or socks5h://";
        }
        string scheme = text[..schemeEnd].ToLowerInvariant();
        if (!Schemes.Contains(scheme))
        {
            // Not quoted back: with the "://" missing after it, the "scheme" may be a user and password.
            return "the scheme is not one of http, https, socks5, socks5h";
        }
        string rest = text[(schemeEnd + 3)..];
        int at = rest.LastIndexOf('@');
        string authority = at < 0 ? rest : rest[(at + 1)..];
        int pathStart = authority.IndexOfAny(['/', '?', '#']);
        if (pathStart >= 0)
        {
            if (authority[pathStart..] != "/")
            {
                return "a proxy URL has no path, query or fragment";
            }
            authority = authority[..pathStart];
        }
        string? user = null;
        string? password = null;
        if (at >= 0)
        {
            string userInfo = rest[..at];
            int colon = userInfo.IndexOf(':');
            user = Uri.UnescapeDataString(colon < 0 ? userInfo : userInfo[..colon]);
            password = colon < 0 ? null : Uri.UnescapeDataString(userInfo[(colon + 1)..]);
        }
        if (!HostPort.TryParse(authority, HostPortOptions.PortOptional, out var hostPort, out string? hostError))
        {
            return hostError;
        }
        if (hostPort.Address is null && !DomainName.IsValid(hostPort.Host))
        {
            return $"host {hostPort.Host} is not a valid name or address";
        }
        ushort port = hostPort.Port == 0 ? DefaultPort(scheme) : hostPort.Port;
        uri = new ProxyUri(scheme, hostPort.Host, port, user, password);
        return null;
    }

    /// <summary>The URL with the password masked: the form for logs and <c>usernet config</c>.</summary>
    public override string ToString() => Format(Password is null ? null : Redaction.Mask);

    /// <summary>The URL with the real password, for the proxy client alone.</summary>
    public string ToUnmaskedString() => Format(Password is null ? null : Uri.EscapeDataString(Password));

    private string Format(string? password)
    {
        string userInfo = User is null ? "" : Uri.EscapeDataString(User) + (password is null ? "" : ":" + password) + "@";
        string host = Host.Contains(':') ? $"[{Host}]" : Host;
        return $"{Scheme}://{userInfo}{host}:{Port}";
    }
}
