using Usernet.Wire;

namespace Usernet.Services.Dhcp6;

/// <summary>
/// An address held for one client's IA_NA. Advertised (held briefly for the client's Request)
/// -> Bound (until its valid lifetime ends; Renew and Rebind extend it) -> released or expired.
/// </summary>
internal sealed class Dhcpv6Lease(Ipv6Address address)
{
    public Ipv6Address Address { get; } = address;

    public bool Bound { get; set; }

    public Instant Expires { get; set; }
}
