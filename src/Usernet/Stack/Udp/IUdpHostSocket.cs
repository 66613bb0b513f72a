using Usernet.Wire;

namespace Usernet.Stack.Udp;

/// <summary>How a send on a host datagram socket went.</summary>
internal enum HostSendResult
{
    Sent,

    /// <summary>Too big for the path with DF set; <c>mtu</c> says what fits.</summary>
    TooBig,

    /// <summary>The socket buffer was full: the datagram is lost, as on a congested link.</summary>
    Dropped,

    Unreachable,
    Failed,
}

/// <summary>
/// An ICMP error the host received about a datagram we sent (IP_RECVERR). For an echo request,
/// <paramref name="QuotedSequence"/> is the sequence number it carried.
/// </summary>
internal readonly record struct HostIcmpError(byte Type, byte Code, IpAddress Offender, IpEndpoint OriginalDestination, uint Info, ushort QuotedSequence = 0);

/// <summary>
/// A host datagram socket for one guest flow (UDP, or ICMP echo through ping sockets): it
/// sends to any destination with the guest's TTL and DF, and delivers what comes back.
/// </summary>
internal interface IHostDatagramSocket
{
    HostSendResult Send(IpEndpoint destination, ReadOnlySpan<byte> payload, byte ttl, bool dontFragment, out int mtu);

    void Close();
}

/// <summary>What a host datagram socket tells its flow, on the loop thread.</summary>
internal interface IHostDatagramEvents
{
    /// <summary>Where the next datagram is to be received: straight into the frame being built.</summary>
    Span<byte> ReceiveBuffer { get; }

    /// <summary>A datagram of <paramref name="length"/> bytes from <paramref name="source"/> is in <see cref="ReceiveBuffer"/>.</summary>
    void OnHostDatagram(IpEndpoint source, int length, Instant now);

    void OnHostIcmpError(in HostIcmpError error, Instant now);
}

/// <summary>Opens host datagram sockets.</summary>
internal interface IHostDatagramFactory
{
    /// <summary>A UDP socket of the family of <paramref name="family"/>; null when none can be opened.</summary>
    IHostDatagramSocket? OpenUdp(IpAddress family, IHostDatagramEvents events);

    /// <summary>
    /// A socket that sends ICMP echo requests (given whole, header and data) and receives the
    /// replies, with the identifier its own: a ping socket, or a share of a raw one. Null when
    /// the host allows neither (<see cref="PingUnavailableReason"/> says why).
    /// </summary>
    IHostDatagramSocket? OpenPing(IpAddress family, IHostDatagramEvents events);

    /// <summary>Why echo to outside addresses cannot work here, or null when it can.</summary>
    string? PingUnavailableReason { get; }
}
