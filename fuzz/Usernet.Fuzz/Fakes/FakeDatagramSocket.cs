using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Fuzz.Fakes;

/// <summary>A host datagram socket that takes every send; a send after close breaks the NAT's contract.</summary>
internal sealed class FakeDatagramSocket(IpAddress family, IHostDatagramEvents events) : IHostDatagramSocket
{
    public IpAddress Family { get; } = family;

    public IHostDatagramEvents Events { get; } = events;

    /// <summary>Where the NAT last sent, or null before its first send: only then can an answer come.</summary>
    public IpEndpoint? LastDestination { get; private set; }

    public bool Closed { get; private set; }

    /// <summary>How the next send goes (the input can make the host refuse or say "too big").</summary>
    public HostSendResult NextResult { get; set; } = HostSendResult.Sent;

    public HostSendResult Send(IpEndpoint destination, ReadOnlySpan<byte> payload, byte ttl, bool dontFragment, out int mtu)
    {
        PropertyException.Check(!Closed, "a send on a closed host datagram socket");
        LastDestination = destination;
        mtu = 1280;
        return NextResult;
    }

    public void Close()
    {
        PropertyException.Check(!Closed, "a host datagram socket closed twice");
        Closed = true;
    }
}
