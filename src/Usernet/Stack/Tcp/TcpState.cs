namespace Usernet.Stack.Tcp;

/// <summary>
/// The states of RFC 9293 §3.3.2 as the guest sees our end, plus one before it: for a guest
/// connection the host socket connects first (HostConnecting), and only then does the guest
/// get its SYN-ACK. Guest open: HostConnecting -> SynReceived -> Established. Our open (port
/// forwarding): SynSent -> Established. Closing as in the RFC.
/// </summary>
internal enum TcpState
{
    HostConnecting,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
    Closed,
}
