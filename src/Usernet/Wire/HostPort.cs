using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Usernet.Wire;

/// <summary>
/// A host and a port as people and protocols write them: HOST:PORT, or [IPV6]:PORT with the
/// IPv6 address in brackets (RFC 3986 §3.2.2, §3.2.3). Every place that reads such text (link
/// addresses, DNS servers, proxy URLs, HTTP authorities, NO_PROXY entries, PAC results, the
/// control API) reads it here, and says through <see cref="HostPortOptions"/> what it accepts
/// beyond that instead of splitting the text itself.
/// <list type="bullet">
/// <item>The port: decimal digits only, 1..65535. No sign, no white space. Leading zeros are
/// read as decimal ("080" is 80), as RFC 3986's <c>port = *DIGIT</c>, Go and Docker read them;
/// no reader of ports takes them as octal, as inet_aton does for address octets. Port 0 is
/// refused: a caller that means "any port" lets the port be left out instead. A range of ports
/// is not a port: the caller splits it and reads each end with <see cref="TryParsePort"/>.</item>
/// <item>Brackets hold an IPv6 address and nothing else, and must be balanced. Without
/// brackets, text with more than one ':' is an IPv6 address with no port, and only where the
/// caller allows that (<see cref="HostPortOptions.BareIpv6"/>): "fe80::1:80" is itself an
/// address, so a port after an IPv6 address needs the brackets.</item>
/// <item>A host that is no IP address is a name: 1..253 characters, not counting one trailing
/// dot, which is kept ("example.com." is a fully qualified name); printable ASCII only (an
/// internationalized name is written in its xn-- form), and none of the delimiters
/// <c>/ ? # @ [ ] \ % :</c>. Callers with a narrower idea of a name (a proxy URL's host) check
/// it on <see cref="Host"/>.</item>
/// </list>
/// </summary>
/// <param name="Host">The host as written, without brackets; "" only with <see cref="HostPortOptions.EmptyHost"/>.</param>
/// <param name="Address">The host as an address, when it is one.</param>
/// <param name="Port">The port; 0 when the text had none (only with <see cref="HostPortOptions.PortOptional"/>).</param>
internal readonly record struct HostPort(string Host, IpAddress? Address, ushort Port)
{
    /// <summary>The longest name (RFC 1035 §2.3.4: 255 octets on the wire are 253 characters of text).</summary>
    public const int MaxNameLength = 253;

    /// <summary>
    /// Reads <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong
    /// with it without quoting it whole, so that the caller can name its field and quote the
    /// value as its messages do.
    /// </summary>
    public static bool TryParse(string text, HostPortOptions options, out HostPort value, [NotNullWhen(false)] out string? error)
    {
        value = default;
        error = Parse(text, options, out value);
        return error is null;
    }

    /// <summary>The port rule above: digits only, 1..65535.</summary>
    public static bool TryParsePort(ReadOnlySpan<char> text, out ushort port)
    {
        port = 0;
        return !text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9')
            && ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port != 0;
    }

    /// <summary>The host as an endpoint; <paramref name="defaultPort"/> when the text had no port.</summary>
    public IpEndpoint ToEndpoint(ushort defaultPort = 0) =>
        new(Address ?? throw new InvalidOperationException($"{Host} is not an IP address"), Port == 0 ? defaultPort : Port);

    /// <summary>The text form: an IPv6 address in brackets, the port after a ':' when there is one.</summary>
    public override string ToString()
    {
        string host = Host.Contains(':') ? $"[{Host}]" : Host;
        return Port == 0 ? host : $"{host}:{Port}";
    }

    private static string? Parse(string text, HostPortOptions options, out HostPort value)
    {
        value = default;
        bool portOptional = (options & HostPortOptions.PortOptional) != 0;
        string host = text;
        string? port = null;
        bool bracketed = text.StartsWith('[');
        bool bareIpv6 = false;
        if (bracketed)
        {
            int close = text.IndexOf(']');
            if (close < 0)
            {
                return "an opening '[' has no closing ']'";
            }
            host = text[1..close];
            if (close + 1 < text.Length)
            {
                if (text[close + 1] != ':')
                {
                    return "expected :PORT after the bracketed address";
                }
                port = text[(close + 2)..];
            }
        }
        else if (text.Contains(']'))
        {
            return "a closing ']' has no opening '['";
        }
        else if (text.IndexOf(':') is var colon and >= 0)
        {
            if (text.LastIndexOf(':') != colon)
            {
                if ((options & HostPortOptions.BareIpv6) == 0 || !portOptional)
                {
                    return "it has more than one ':'; an IPv6 address goes in brackets, as in [::1]:80";
                }
                bareIpv6 = true;
            }
            else
            {
                (host, port) = (text[..colon], text[(colon + 1)..]);
            }
        }

        ushort number = 0;
        if (port is not null)
        {
            if (port.Length == 0)
            {
                return "the port after ':' is missing";
            }
            if (!TryParsePort(port, out number))
            {
                return $"port {port} is not a number in 1..65535";
            }
        }
        else if (!portOptional)
        {
            return "the port is missing";
        }

        if (bracketed || bareIpv6)
        {
            if (!Ipv6Address.TryParse(host, out var v6))
            {
                return bracketed ? $"{(host.Length == 0 ? "[]" : host)} in brackets is not an IPv6 address" : $"{host} is not an IPv6 address";
            }
            value = new HostPort(host, v6, number);
            return null;
        }
        if (host.Length == 0)
        {
            if ((options & HostPortOptions.EmptyHost) == 0)
            {
                return "the host is missing";
            }
            value = new HostPort(host, null, number);
            return null;
        }
        if (Ipv4Address.TryParse(host, out var v4))
        {
            value = new HostPort(host, v4, number);
            return null;
        }
        if ((options & HostPortOptions.AddressOnly) != 0)
        {
            return $"{host} is not an IP address";
        }
        string? nameError = CheckName(host);
        if (nameError is not null)
        {
            return nameError;
        }
        value = new HostPort(host, null, number);
        return null;
    }

    private static string? CheckName(string host)
    {
        int length = host.EndsWith('.') ? host.Length - 1 : host.Length;
        if (length == 0)
        {
            return "the host is missing";
        }
        if (length > MaxNameLength)
        {
            return $"the host name is longer than {MaxNameLength} characters";
        }
        foreach (char c in host)
        {
            if (c is <= ' ' or >= '\x7F' or '/' or '?' or '#' or '@' or '[' or ']' or '\\' or '%')
            {
                return c switch
                {
                    <= ' ' or '\x7F' => $"host {host} has white space or a control character",
                    > '\x7F' => $"host {host} has a character that is not ASCII (an international name is written as xn--)",
                    _ => $"host {host} has a '{c}', which no host name has",
                };
            }
        }
        return null;
    }
}
