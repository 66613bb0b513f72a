using Usernet.Wire;

namespace Usernet.Services.Forwarding;

internal enum PublishProtocol
{
    Tcp,
    Udp,
}

/// <summary>
/// One published port as Docker writes it: <c>[hostIP:][hostPort:]guestPort[/tcp|/udp]</c>,
/// where ports may be ranges of equal length (<c>8000-8010:80-90</c>), an IPv6 host address
/// goes in brackets (<c>[::1]:8082:80</c>), and a missing host port means "any free port".
/// <see cref="GuestAddress"/> is null until bound to a guest.
/// </summary>
internal sealed record PublishSpec(
    IpAddress? HostAddress, int HostPortFirst, int HostPortLast, int GuestPortFirst, int GuestPortLast, PublishProtocol Protocol,
    IpAddress? GuestAddress = null)
{
    public int Count => GuestPortLast - GuestPortFirst + 1;

    /// <summary>Whether the host port is left to the kernel.</summary>
    public bool RandomHostPort => HostPortFirst == 0;

    /// <summary>Parses a spec; the exception's message says what is wrong with it.</summary>
    public static PublishSpec Parse(string text)
    {
        string spec = text.Trim();
        if (spec.Length == 0)
        {
            throw new FormatException("empty publish spec");
        }
        var protocol = PublishProtocol.Tcp;
        int slash = spec.LastIndexOf('/');
        if (slash >= 0)
        {
            protocol = spec[(slash + 1)..].ToLowerInvariant() switch
            {
                "tcp" => PublishProtocol.Tcp,
                "udp" => PublishProtocol.Udp,
                var other => throw new FormatException($"'{text}': protocol '{other}' is not tcp or udp"),
            };
            spec = spec[..slash];
        }
        IpAddress? hostAddress = null;
        if (spec.StartsWith('['))
        {
            // [IPv6]:rest, read as HostPort reads brackets; the rest is ports, not one port.
            int close = spec.IndexOf(']');
            if (close < 0 || close + 1 >= spec.Length || spec[close + 1] != ':')
            {
                throw new FormatException($"'{text}': an IPv6 host address goes in brackets, then a colon: [::1]:8080:80");
            }
            hostAddress = Ipv6Address.TryParse(spec[1..close], out var v6)
                ? v6
                : throw new FormatException($"'{text}': '{spec[1..close]}' in brackets is not an IPv6 address");
            spec = spec[(close + 2)..];
        }
        else if (spec.Contains(']'))
        {
            throw new FormatException($"'{text}': a closing ']' has no opening '['");
        }
        string[] parts = spec.Split(':');
        (int First, int Last) hostPorts;
        (int First, int Last) guestPorts;
        switch (parts.Length)
        {
            case 1:
                hostPorts = (0, 0);
                guestPorts = ParseRange(text, parts[0], "guest port");
                break;
            case 2:
                hostPorts = parts[0].Length == 0 ? (0, 0) : ParseRange(text, parts[0], "host port");
                guestPorts = ParseRange(text, parts[1], "guest port");
                break;
            case 3 when hostAddress is null:
                hostAddress = ParseAddress(text, parts[0]);
                hostPorts = parts[1].Length == 0 ? (0, 0) : ParseRange(text, parts[1], "host port");
                guestPorts = ParseRange(text, parts[2], "guest port");
                break;
            default:
                throw new FormatException($"'{text}': expected [HOST_IP:][HOST_PORT:]GUEST_PORT[/tcp|/udp]");
        }
        if (hostPorts.First != 0 && hostPorts.Last - hostPorts.First != guestPorts.Last - guestPorts.First)
        {
            throw new FormatException($"'{text}': the host and guest port ranges differ in length");
        }
        if (hostPorts.First == 0 && guestPorts.Last != guestPorts.First)
        {
            throw new FormatException($"'{text}': a range of guest ports needs a range of host ports");
        }
        return new PublishSpec(hostAddress, hostPorts.First, hostPorts.Last, guestPorts.First, guestPorts.Last, protocol);
    }

    private static IpAddress ParseAddress(string text, string address) =>
        Ipv4Address.TryParse(address, out var parsed)
            ? parsed
            : throw new FormatException($"'{text}': '{address}' is not an IPv4 address (an IPv6 one goes in brackets: [::1]:8080:80)");

    private static (int First, int Last) ParseRange(string text, string value, string what)
    {
        int dash = value.IndexOf('-');
        int first = ParsePort(text, dash < 0 ? value : value[..dash], what);
        int last = dash < 0 ? first : ParsePort(text, value[(dash + 1)..], what);
        if (last < first)
        {
            throw new FormatException($"'{text}': {what} range {value} runs backwards");
        }
        return (first, last);
    }

    /// <summary>One port by <see cref="HostPort.TryParsePort"/>'s rule: digits only, 1..65535.</summary>
    private static int ParsePort(string text, string value, string what) =>
        HostPort.TryParsePort(value, out ushort port)
            ? port
            : throw new FormatException($"'{text}': {what} '{value}' is not a port (1-65535)");

    /// <summary>The single-port publishes this spec stands for.</summary>
    public IEnumerable<PublishSpec> Expand()
    {
        for (int i = 0; i < Count; i++)
        {
            int host = RandomHostPort ? 0 : HostPortFirst + i;
            yield return this with { HostPortFirst = host, HostPortLast = host, GuestPortFirst = GuestPortFirst + i, GuestPortLast = GuestPortFirst + i };
        }
    }

    public override string ToString()
    {
        string host = HostAddress is { } address ? (address.IsV4 ? $"{address}:" : $"[{address}]:") : "";
        string hostPort = RandomHostPort ? "" : HostPortFirst == HostPortLast ? $"{HostPortFirst}:" : $"{HostPortFirst}-{HostPortLast}:";
        string guestPort = GuestPortFirst == GuestPortLast ? $"{GuestPortFirst}" : $"{GuestPortFirst}-{GuestPortLast}";
        return $"{host}{hostPort}{guestPort}/{(Protocol == PublishProtocol.Tcp ? "tcp" : "udp")}";
    }
}
