namespace Usernet.Platform;

/// <summary>
/// Socket states as Linux numbers them in the "st" column of /proc/net/{tcp,udp}{,6}
/// (include/net/tcp_states.h). UDP sockets reuse two: <see cref="Close"/> for an unconnected
/// socket and <see cref="Established"/> for a connected one.
/// </summary>
internal enum KernelTcpState : byte
{
    Established = 1,
    SynSent = 2,
    SynReceived = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
    NewSynReceived = 12,
    BoundInactive = 13,
}
