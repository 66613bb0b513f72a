using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>Where the answer to a query goes: a datagram from <see cref="Server"/> to <see cref="Client"/>, or the TCP <see cref="Stream"/>.</summary>
internal readonly record struct DnsReplyTo(IpEndpoint Client, IpEndpoint Server, IDnsStream? Stream = null)
{
    public bool IsTcp => Stream is not null;
}
