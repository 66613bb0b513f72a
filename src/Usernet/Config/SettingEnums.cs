namespace Usernet.Config;

/// <summary>Docker Desktop's defaultNetworkingMode: which address families the guest gets.</summary>
internal enum NetworkingMode
{
    DualStack,
    Ipv4Only,
    Ipv6Only,

    /// <summary>Follow the host: IPv6 only where the host itself has IPv6 connectivity.</summary>
    Auto,
}

/// <summary>
/// Docker Desktop's dnsInhibition: which record types the DNS server answers with no data, so
/// that a guest whose family is not routed does not wait on addresses it cannot reach.
/// </summary>
internal enum DnsInhibition
{
    Auto,
    Ipv4,
    Ipv6,
    None,
}

internal enum ProxyMode
{
    /// <summary>Use the host's proxy configuration.</summary>
    System,
    Manual,
}

/// <summary>Docker Desktop's portBindingBehavior: which host address a published port binds.</summary>
internal enum PortBindingBehavior
{
    /// <summary>As asked: an unspecified host address binds every interface.</summary>
    DefaultPortBinding,

    /// <summary>An unspecified host address binds loopback only.</summary>
    DefaultLocalPortBinding,

    /// <summary>Every binding is made on loopback, whatever was asked.</summary>
    LocalOnlyPortBinding,
}
