using Usernet.Link;
using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>A datagram from a guest to one of the stack's services.</summary>
internal readonly ref struct UdpRequest
{
    public UdpRequest(IpEndpoint source, IpEndpoint destination, MacAddress sourceMac, FrameLink link, Span<byte> payload)
    {
        Source = source;
        Destination = destination;
        SourceMac = sourceMac;
        Link = link;
        Payload = payload;
    }

    public IpEndpoint Source { get; }

    public IpEndpoint Destination { get; }

    public MacAddress SourceMac { get; }

    public FrameLink Link { get; }

    public Span<byte> Payload { get; }
}

/// <summary>A service the stack runs on a UDP port of the gateway (DHCP, DNS).</summary>
internal interface IUdpService
{
    /// <summary>Also takes datagrams sent to the broadcast address (DHCP does).</summary>
    bool AcceptsBroadcast { get; }

    void OnDatagram(in UdpRequest request, Instant now);
}
