namespace Usernet.Stack.Egress;

/// <summary>The protocols an egress rule names; a flow is one of them.</summary>
[Flags]
internal enum EgressProtocols : byte
{
    None = 0,
    Tcp = 1,
    Udp = 2,

    /// <summary>Echo requests (ping), ICMP and ICMPv6 alike: the only ICMP a guest opens a flow with.</summary>
    Icmp = 4,

    All = Tcp | Udp | Icmp,
}
