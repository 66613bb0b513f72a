namespace Usernet.Stack.Egress;

/// <summary>What the <c>to</c> of an egress rule names.</summary>
internal enum EgressTargetKind
{
    /// <summary>A CIDR of either family (a bare address is a /32 or /128).</summary>
    Network,

    /// <summary>The host address (IPv4 and IPv6), which stands for the host's loopback.</summary>
    Host,

    /// <summary>One name exactly: <c>example.com</c>.</summary>
    Domain,

    /// <summary>Every name below a domain, not the domain itself: <c>*.example.com</c>.</summary>
    Subdomains,
}
