using System.Net.Sockets;
using Usernet.Wire;

namespace Usernet.Platform;

/// <summary>One line of /proc/net/{tcp,udp}{,6}: a socket of the network namespace whose table it is.</summary>
internal readonly record struct ProcNetSocket(
    ProtocolType Protocol, IpEndpoint Local, IpEndpoint Remote, KernelTcpState State, ulong Inode)
{
    /// <summary>
    /// Whether the socket waits for peers: for TCP, in LISTEN; for UDP, bound and unconnected
    /// (state CLOSE, no remote port), since a connected UDP socket takes datagrams from its one
    /// peer only. The one definition of "listening" for every reader of these tables.
    /// </summary>
    public bool IsListening => Protocol == ProtocolType.Tcp
        ? State == KernelTcpState.Listen
        : State == KernelTcpState.Close && Remote.Port == 0;
}
