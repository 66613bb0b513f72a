using System.Diagnostics.CodeAnalysis;
using Usernet.Wire;

namespace Usernet.Config;

/// <summary>The kinds of value the schema uses, each with the parser that gives its error messages.</summary>
internal static class SettingTypes
{
    public static readonly SettingType<bool> Bool = new BoolSettingType();

    public static readonly SettingType<Ipv4Address> Ipv4 = new TextSettingType<Ipv4Address>("an IPv4 address",
        (string text, out Ipv4Address value, [NotNullWhen(false)] out string? error) =>
            Check(Ipv4Address.TryParse(text, out value), text, "is not a valid IPv4 address", out error));

    public static readonly SettingType<Ipv6Address> Ipv6 = new TextSettingType<Ipv6Address>("an IPv6 address",
        (string text, out Ipv6Address value, [NotNullWhen(false)] out string? error) =>
            Check(Ipv6Address.TryParse(text, out value), text, "is not a valid IPv6 address", out error));

    public static readonly SettingType<IpAddress> Ip = new TextSettingType<IpAddress>("an IP address",
        (string text, out IpAddress value, [NotNullWhen(false)] out string? error) =>
            Check(IpAddress.TryParse(text, out value), text, "is not a valid IP address", out error));

    /// <summary>A DNS server: "IP", "IP:port" or "[IPv6]:port"; the port defaults to 53.</summary>
    public static readonly SettingType<IpEndpoint> DnsServer = new TextSettingType<IpEndpoint>("a DNS server (IP, IP:port or [IPv6]:port)",
        (string text, out IpEndpoint value, [NotNullWhen(false)] out string? error) =>
        {
            bool parsed = HostPort.TryParse(text, HostPortOptions.AddressOnly | HostPortOptions.PortOptional | HostPortOptions.BareIpv6, out var server, out string? problem);
            value = parsed ? server.ToEndpoint(53) : default;
            return Check(parsed, text, $"is not a DNS server address (IP, IP:port or [IPv6]:port): {problem}", out error);
        });

    public static readonly SettingType<string> Domain = new TextSettingType<string>("a domain name", TryParseDomain);

    public static readonly SettingType<string> AnyString = new TextSettingType<string>("a string",
        (string text, [MaybeNullWhen(false)] out string value, [NotNullWhen(false)] out string? error) =>
        {
            value = text;
            error = null;
            return true;
        });

    public static readonly SettingType<string> NonEmptyString = new TextSettingType<string>("a non-empty string",
        (string text, [MaybeNullWhen(false)] out string value, [NotNullWhen(false)] out string? error) =>
            Check((value = text).Trim().Length > 0, text, "is empty", out error));

    public static readonly SettingType<string> AbsolutePath = new TextSettingType<string>("an absolute path",
        (string text, [MaybeNullWhen(false)] out string value, [NotNullWhen(false)] out string? error) =>
            Check(Path.IsPathFullyQualified(value = text), text, "is not an absolute path", out error));

    /// <summary>An absolute path, or "" for none.</summary>
    public static readonly SettingType<string> AbsolutePathOrNone = new TextSettingType<string>("an absolute path, or \"\"",
        (string text, [MaybeNullWhen(false)] out string value, [NotNullWhen(false)] out string? error) =>
            Check((value = text).Length == 0 || Path.IsPathFullyQualified(text), text, "is not an absolute path", out error));

    /// <summary>A proxy URL, or "" for none (held as null).</summary>
    public static readonly SettingType<ProxyUri?> ProxyUrl = new TextSettingType<ProxyUri?>("a proxy URL such as http://proxy.corp:3128, or \"\"",
        (string text, out ProxyUri? value, [NotNullWhen(false)] out string? error) =>
        {
            value = null;
            error = null;
            if (text.Length == 0 || ProxyUri.TryParse(text, out value, out string? problem))
            {
                return true;
            }
            return Check(false, text, $"is not a valid proxy URL: {problem}", out error);
        },
        value => value?.ToString() ?? "");

    /// <summary>Where a PAC script is: an http(s) or file URL, an absolute path, or "" for none.</summary>
    public static readonly SettingType<string> PacLocation = new TextSettingType<string>("a PAC URL or absolute path, or \"\"",
        (string text, [MaybeNullWhen(false)] out string value, [NotNullWhen(false)] out string? error) =>
            Check(IsPacLocation(value = text), text, "is not an http://, https:// or file:// URL or an absolute path", out error));

    /// <summary>A capability by the kernel's name, with or without CAP_: NET_BIND_SERVICE.</summary>
    public static readonly SettingType<Platform.Capability> Capability = new TextSettingType<Platform.Capability>("a capability such as NET_BIND_SERVICE",
        (string text, out Platform.Capability value, [NotNullWhen(false)] out string? error) =>
        {
            bool known = Platform.CapabilitySet.TryParseName(text, out var capability);
            value = capability ?? default;
            return Check(known, text, "is not a Linux capability (capabilities(7)), such as NET_BIND_SERVICE", out error);
        },
        value => Platform.CapabilitySet.NameOf((int)value));

    public static readonly SettingType<PortSet> Ports = new TextSettingType<PortSet>("\"\", \"*\" or a list of ports such as 80,443,8000-8100",
        (string text, [MaybeNullWhen(false)] out PortSet value, [NotNullWhen(false)] out string? error) =>
            PortSet.TryParse(text, out value, out error));

    /// <summary>An address and port to listen on (IP:PORT or [IPv6]:PORT), or "" for none (held as null).</summary>
    public static readonly SettingType<IpEndpoint?> ListenAddressOrNone = new TextSettingType<IpEndpoint?>("an address and port such as 127.0.0.1:1080, or \"\"",
        (string text, out IpEndpoint? value, [NotNullWhen(false)] out string? error) =>
        {
            value = null;
            error = null;
            if (text.Length == 0)
            {
                return true;
            }
            bool parsed = HostPort.TryParse(text, HostPortOptions.AddressOnly, out var listen, out string? problem);
            value = parsed ? listen.ToEndpoint() : null;
            return Check(parsed, text, $"is not an address and port such as 127.0.0.1:1080 or [::1]:1080: {problem}", out error);
        },
        value => value?.ToString() ?? "");

    /// <summary>A password: any string, shown masked wherever settings are shown.</summary>
    public static readonly SettingType<string> Secret = new TextSettingType<string>("a string",
        (string text, [MaybeNullWhen(false)] out string value, [NotNullWhen(false)] out string? error) =>
        {
            value = text;
            error = null;
            return true;
        },
        value => value.Length == 0 ? "" : Redaction.Mask);

    public static SettingType<int> Integer(int minimum, int maximum) =>
        new NumberSettingType<int>(minimum, maximum, wholeOnly: true, number => (int)number, value => value);

    public static SettingType<TimeSpan> Seconds(double minimum, double maximum) =>
        new NumberSettingType<TimeSpan>(minimum, maximum, wholeOnly: false, TimeSpan.FromSeconds, value => value.TotalSeconds);

    public static SettingType<T?> AutoOr<T>(SettingType<T> inner) where T : struct => new AutoOrSettingType<T>(inner);

    public static SettingType<IReadOnlyList<T>> List<T>(SettingType<T> element) => new ListSettingType<T>(element);

    public static SettingType<T?> OrNull<T>(SettingType<T> inner) where T : class => new NullableSettingType<T>(inner);

    /// <summary>Domain names to lists: DNS routes and static records.</summary>
    public static SettingType<IReadOnlyDictionary<string, IReadOnlyList<T>>> DomainMap<T>(SettingType<T> element) =>
        new MapSettingType<T>("domain names", TryParseDomain, element);

    /// <summary>Subnets (IPv4 or IPv6 CIDRs, written as networks) to lists: routes into guests.</summary>
    public static SettingType<IReadOnlyDictionary<string, IReadOnlyList<T>>> SubnetMap<T>(SettingType<T> element) =>
        new MapSettingType<T>("subnets", TryParseSubnet, element);

    public static SettingType<Ipv4Cidr> Ipv4Network(int minimumPrefix, int maximumPrefix) => new TextSettingType<Ipv4Cidr>(
        $"an IPv4 CIDR with a prefix of {minimumPrefix}..{maximumPrefix}",
        (string text, out Ipv4Cidr value, [NotNullWhen(false)] out string? error) =>
        {
            bool parsed = Ipv4Cidr.TryParse(text, out var address, out int prefix);
            value = parsed ? new Ipv4Cidr(address, prefix) : default;
            return Check(parsed, text, "is not a valid IPv4 CIDR", out error)
                && CheckNetwork(text, value.ToString(), value.Network == address, prefix, minimumPrefix, maximumPrefix, out error);
        });

    public static SettingType<Ipv6Cidr> Ipv6Network(int minimumPrefix, int maximumPrefix) => new TextSettingType<Ipv6Cidr>(
        $"an IPv6 CIDR with a prefix of {minimumPrefix}..{maximumPrefix}",
        (string text, out Ipv6Cidr value, [NotNullWhen(false)] out string? error) =>
        {
            bool parsed = Ipv6Cidr.TryParse(text, out var address, out int prefix);
            value = parsed ? new Ipv6Cidr(address, prefix) : default;
            return Check(parsed, text, "is not a valid IPv6 CIDR", out error)
                && CheckNetwork(text, value.ToString(), value.Network == address, prefix, minimumPrefix, maximumPrefix, out error);
        });

    /// <summary>Names in the file, typed to the enum; the names are the contract, so they are spelled out here.</summary>
    public static SettingType<TEnum> Choice<TEnum>(params (string Name, TEnum Value)[] choices) where TEnum : struct, Enum
    {
        string names = string.Join(", ", choices.Select(c => c.Name));
        return new TextSettingType<TEnum>($"one of {names}",
            (string text, out TEnum value, [NotNullWhen(false)] out string? error) =>
            {
                int index = Array.FindIndex(choices, c => c.Name == text);
                value = index < 0 ? default : choices[index].Value;
                return Check(index >= 0, text, $"is not one of {names}", out error);
            },
            value => choices.First(c => EqualityComparer<TEnum>.Default.Equals(c.Value, value)).Name);
    }

    /// <summary>An IPv4 or IPv6 network in CIDR form, held as its canonical text.</summary>
    private static bool TryParseSubnet(string text, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        if (Ipv4Cidr.TryParse(text, out var v4, out int prefix))
        {
            var network = new Ipv4Cidr(v4, prefix);
            value = network.ToString();
            return Check(network.Network == v4, text, $"has host bits set; the network is {network}", out error);
        }
        if (Ipv6Cidr.TryParse(text, out var v6, out prefix))
        {
            var network = new Ipv6Cidr(v6, prefix);
            value = network.ToString();
            return Check(network.Network == v6, text, $"has host bits set; the network is {network}", out error);
        }
        return Check(false, text, "is not an IPv4 or IPv6 subnet in CIDR form, such as 172.17.0.0/16", out error);
    }

    private static bool TryParseDomain(string text, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? error)
    {
        string? problem = DomainName.Problem(text);
        value = problem is null ? DomainName.Normalize(text) : null;
        return Check(value is not null, text, $"is not a valid domain name: {problem}", out error);
    }

    private static bool IsPacLocation(string text) =>
        text.Length == 0
        || (text.StartsWith('/') && Path.IsPathFullyQualified(text))
        || (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "file");

    private static bool CheckNetwork(string text, string network, bool isNetwork, int prefix, int minimum, int maximum, [NotNullWhen(false)] out string? error) =>
        Check(prefix >= minimum && prefix <= maximum, text, $"has a prefix length out of range ({minimum}..{maximum})", out error)
        && Check(isNetwork, text, $"has host bits set; the network is {network}", out error);

    /// <summary>The one shape of value error: the value quoted (and masked), then what is wrong.</summary>
    private static bool Check(bool valid, string text, string problem, [NotNullWhen(false)] out string? error)
    {
        error = valid ? null : $"\"{Redaction.Redact(text)}\" {problem}";
        return valid;
    }
}
