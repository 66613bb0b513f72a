using Usernet.Wire;

namespace Usernet.Stack.Udp;

/// <summary>A published UDP port, which takes the guest's replies to its clients.</summary>
internal interface IPublishedUdpPort
{
    void SendToClient(IpEndpoint client, ReadOnlySpan<byte> payload, Instant now);
}
