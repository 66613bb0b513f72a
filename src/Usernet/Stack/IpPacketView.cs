using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>
/// A validated IP packet of either family, as the transports see it: addresses, the
/// transport protocol and its bytes, and the whole packet for quoting in ICMP errors.
/// </summary>
internal readonly ref struct IpPacketView
{
    public IpPacketView(Ipv4Packet ip)
    {
        Source = ip.Source;
        Destination = ip.Destination;
        Protocol = ip.Protocol;
        HopLimit = ip.TimeToLive;
        Payload = ip.Payload;
        Packet = ip.Buffer;
        IsV4 = true;
    }

    public IpPacketView(IpAddress source, IpAddress destination, byte protocol, byte hopLimit, Span<byte> payload, Span<byte> packet)
    {
        Source = source;
        Destination = destination;
        Protocol = protocol;
        HopLimit = hopLimit;
        Payload = payload;
        Packet = packet;
        IsV4 = source.IsV4;
    }

    public bool IsV4 { get; }

    /// <summary>
    /// The <see cref="Link.FrameLink.Id"/> of the link the packet came in on: flows are keyed with
    /// it, so that guests on different links never share one, whatever addresses they use.
    /// </summary>
    public int LinkId { get; init; }

    public IpAddress Source { get; }

    public IpAddress Destination { get; }

    public byte Protocol { get; }

    public byte HopLimit { get; }

    /// <summary>The transport header and data.</summary>
    public Span<byte> Payload { get; }

    /// <summary>The whole IP packet, header included.</summary>
    public Span<byte> Packet { get; }

    /// <summary>The pseudo-header sum for a transport checksum over <paramref name="length"/> bytes.</summary>
    public ulong PseudoHeaderSum(int length) => IsV4
        ? InternetChecksum.PseudoHeaderV4(Source.V4, Destination.V4, Protocol, length)
        : InternetChecksum.PseudoHeaderV6(Source.V6, Destination.V6, Protocol, length);
}

/// <summary>A transport that takes guest packets: TCP, UDP NAT, ICMP NAT.</summary>
internal interface IIpTransport
{
    void Receive(IpPacketView packet, Instant now);
}
