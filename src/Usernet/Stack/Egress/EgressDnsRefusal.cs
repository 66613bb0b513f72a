namespace Usernet.Stack.Egress;

/// <summary>How the DNS server answers a query for a name the egress policy denies (egress.dnsRefusal).</summary>
internal enum EgressDnsRefusal
{
    /// <summary>NXDOMAIN: the name does not exist, as far as the guest can tell.</summary>
    NxDomain,

    /// <summary>REFUSED: the server will not answer it (RFC 1035 §4.1.1); resolvers try the next server.</summary>
    Refused,
}
