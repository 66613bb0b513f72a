using Usernet.Config;
using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>
/// Docker Desktop's dnsInhibition: which address records the server withholds (answers NODATA),
/// so that a guest does not try a family it has no path for and wait on it. <c>auto</c> decides
/// by the paths there are: a family needs the guest to have it, and, for addresses on the far
/// side of the host, the host too. Usernet's own addresses (host.docker.internal and the like)
/// are virtual and need only the guest's.
/// </summary>
internal sealed class DnsInhibitionPolicy
{
    private readonly Func<bool> _guestHasIpv4;
    private readonly Func<bool> _guestHasIpv6;

    public DnsInhibitionPolicy(DnsInhibition mode, Func<bool> guestHasIpv4, Func<bool> guestHasIpv6)
    {
        Mode = mode;
        _guestHasIpv4 = guestHasIpv4;
        _guestHasIpv6 = guestHasIpv6;
    }

    public DnsInhibition Mode { get; }

    /// <summary>Whether the host has an IPv4 path (a default route or a global address); kept up to date by <see cref="HostFamilyProbe"/>.</summary>
    public bool HostHasIpv4 { get; set; } = true;

    public bool HostHasIpv6 { get; set; } = true;

    /// <summary>Whether answers of <paramref name="type"/> are withheld; <paramref name="local"/> for Usernet's own names.</summary>
    public bool Filters(ushort type, bool local) => Mode switch
    {
        DnsInhibition.Ipv4 => type == DnsType.A,
        DnsInhibition.Ipv6 => type == DnsType.Aaaa,
        DnsInhibition.Auto => type switch
        {
            DnsType.A => !(_guestHasIpv4() && (local || HostHasIpv4)),
            DnsType.Aaaa => !(_guestHasIpv6() && (local || HostHasIpv6)),
            _ => false,
        },
        _ => false,
    };
}
