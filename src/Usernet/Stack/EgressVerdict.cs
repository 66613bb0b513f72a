namespace Usernet.Stack;

/// <summary>Where a new flow may go, as <see cref="EgressRule"/> decides.</summary>
internal enum EgressVerdict
{
    /// <summary>Out through a host socket to the address itself.</summary>
    Direct,

    /// <summary>The host address, standing for the host's loopback: out to 127.0.0.1 or ::1.</summary>
    HostLoopback,

    /// <summary>The gateway: only Usernet's own services answer there.</summary>
    Gateway,

    /// <summary>Not to be reached from the guest at all.</summary>
    Refused,

    /// <summary>Reachable, but the egress policy refuses it.</summary>
    Denied,
}
