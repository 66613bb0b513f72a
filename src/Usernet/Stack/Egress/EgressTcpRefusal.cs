namespace Usernet.Stack.Egress;

/// <summary>How a TCP SYN the policy denies is answered (egress.tcpRefusal).</summary>
internal enum EgressTcpRefusal
{
    /// <summary>RST, as a host with nothing listening: the guest's connect() fails with "connection refused".</summary>
    Rst,

    /// <summary>ICMP destination unreachable, communication administratively prohibited: "no route to host".</summary>
    Icmp,
}
