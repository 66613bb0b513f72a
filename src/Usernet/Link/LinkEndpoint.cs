using Usernet.Wire;

namespace Usernet.Link;

internal enum LinkEndpointKind
{
    Unix,
    Tcp,
    Fd,
    UnixDatagram,
    Udp,
}

/// <summary>
/// Where a VM link listens or which fd it inherits: <c>unix:/path</c>, <c>tcp:127.0.0.1:port</c>,
/// <c>fd:N</c>, and for datagram links <c>unixgram:/path</c> or <c>udp:127.0.0.1:port</c>.
/// </summary>
internal sealed record LinkEndpoint(LinkEndpointKind Kind, string? Path, IpEndpoint? Endpoint, int Fd)
{
    public static LinkEndpoint Parse(string text, bool datagram)
    {
        int colon = text.IndexOf(':');
        if (colon <= 0)
        {
            throw new FormatException($"'{text}': expected {(datagram ? "unixgram:PATH or udp:ADDRESS:PORT" : "unix:PATH, tcp:ADDRESS:PORT or fd:N")}");
        }
        string scheme = text[..colon];
        string rest = text[(colon + 1)..];
        return (scheme, datagram) switch
        {
            ("unix", false) => new LinkEndpoint(LinkEndpointKind.Unix, RequirePath(text, rest), null, -1),
            ("unixgram", true) or ("unix", true) => new LinkEndpoint(LinkEndpointKind.UnixDatagram, RequirePath(text, rest), null, -1),
            ("tcp", false) => new LinkEndpoint(LinkEndpointKind.Tcp, null, ParseEndpoint(text, rest), -1),
            ("udp", true) => new LinkEndpoint(LinkEndpointKind.Udp, null, ParseEndpoint(text, rest), -1),
            ("fd", _) when int.TryParse(rest, out int fd) && fd >= 0 => new LinkEndpoint(LinkEndpointKind.Fd, null, null, fd),
            _ => throw new FormatException($"'{text}': unknown link address (expected {(datagram ? "unixgram:PATH, udp:ADDRESS:PORT or fd:N" : "unix:PATH, tcp:ADDRESS:PORT or fd:N")})"),
        };
    }

    private static string RequirePath(string text, string path) =>
        path.Length > 0 ? path : throw new FormatException($"'{text}': missing path");

    /// <summary>Parses <c>ADDRESS:PORT</c> or <c>[IPv6]:PORT</c>, by <see cref="HostPort"/>'s rules.</summary>
    public static IpEndpoint ParseEndpoint(string text, string rest) =>
        HostPort.TryParse(rest, HostPortOptions.AddressOnly, out var endpoint, out string? error)
            ? endpoint.ToEndpoint()
            : throw new FormatException($"'{text}': {error} (expected ADDRESS:PORT or [IPv6]:PORT)");

    public override string ToString() => Kind switch
    {
        LinkEndpointKind.Unix => $"unix:{Path}",
        LinkEndpointKind.UnixDatagram => $"unixgram:{Path}",
        LinkEndpointKind.Tcp => $"tcp:{Endpoint}",
        LinkEndpointKind.Udp => $"udp:{Endpoint}",
        _ => $"fd:{Fd}",
    };
}
