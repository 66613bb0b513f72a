namespace Usernet.Wire;

/// <summary>What a caller of <see cref="HostPort.TryParse"/> accepts beyond HOST:PORT and [IPV6]:PORT.</summary>
[Flags]
internal enum HostPortOptions
{
    /// <summary>A port is required; the host is a name or an IP address.</summary>
    None = 0,

    /// <summary>The port may be left out ("example.com", "[::1]"); <see cref="HostPort.Port"/> is then 0.</summary>
    PortOptional = 1,

    /// <summary>The host must be an IP address, not a name.</summary>
    AddressOnly = 2,

    /// <summary>The host may be empty (":8080"), for "every address".</summary>
    EmptyHost = 4,

    /// <summary>
    /// An IPv6 address may stand without brackets ("::1"). Such text has no port, since its last
    /// group could be read as one, so this takes effect only with <see cref="PortOptional"/>.
    /// </summary>
    BareIpv6 = 8,
}
