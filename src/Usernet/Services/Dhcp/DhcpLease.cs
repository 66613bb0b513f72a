using Usernet.Link;
using Usernet.Wire;

namespace Usernet.Services.Dhcp;

/// <summary>Offered -> Bound -> (Released | expired); Reserved never expires; Declined sits out a while.</summary>
internal enum DhcpLeaseState
{
    Offered,
    Bound,
    Reserved,
    Declined,
}

/// <summary>One address and who holds it until when.</summary>
internal sealed class DhcpLease(MacAddress client, Ipv4Address address)
{
    public MacAddress Client { get; set; } = client;

    public Ipv4Address Address { get; } = address;

    public DhcpLeaseState State { get; set; }

    public Instant Expires { get; set; }

    /// <summary>The link the client asked from, for the per-link limit; null for a reservation or a declined address.</summary>
    public FrameLink? Link { get; set; }

    public bool IsLive(Instant now) => State == DhcpLeaseState.Reserved || Expires > now;
}
