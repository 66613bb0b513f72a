using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>Sends a UDP datagram from the gateway to a guest.</summary>
internal delegate void DnsDatagramSender(IpEndpoint source, IpEndpoint destination, ReadOnlySpan<byte> payload);
