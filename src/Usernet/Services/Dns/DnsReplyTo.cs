using Usernet.Wire;

namespace Usernet.Services.Dns;

/// <summary>A guest's DNS-over-TCP connection, to which a late answer is sent.</summary>
internal interface IDnsStream
{
    /// <summary>Sends one response (without the length prefix). Called on the loop thread; must not block.</summary>
    void Send(ReadOnlySpan<byte> response);
}

/// <summary>Sends a UDP datagram from the gateway to a guest.</summary>
internal delegate void DnsDatagramSender(IpEndpoint source, IpEndpoint destination, ReadOnlySpan<byte> payload);

/// <summary>Where the answer to a query goes: a datagram from <see cref="Server"/> to <see cref="Client"/>, or the TCP <see cref="Stream"/>.</summary>
internal readonly record struct DnsReplyTo(IpEndpoint Client, IpEndpoint Server, IDnsStream? Stream = null)
{
    public bool IsTcp => Stream is not null;
}
