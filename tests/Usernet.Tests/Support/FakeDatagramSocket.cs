using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>A host datagram socket that records what it was asked to send; <see cref="NextResult"/> says how the send went.</summary>
internal sealed class FakeDatagramSocket(IpAddress family, IHostDatagramEvents events) : IHostDatagramSocket
{
    public sealed record Sent(IpEndpoint Destination, byte[] Payload, byte Ttl, bool DontFragment);

    public IpAddress Family { get; } = family;

    public IHostDatagramEvents Events { get; } = events;

    public List<Sent> Sends { get; } = new();

    public bool Closed { get; private set; }

    public HostSendResult NextResult { get; set; } = HostSendResult.Sent;

    /// <summary>The path MTU reported with <see cref="HostSendResult.TooBig"/>.</summary>
    public int Mtu { get; set; } = 1400;

    public HostSendResult Send(IpEndpoint destination, ReadOnlySpan<byte> payload, byte ttl, bool dontFragment, out int mtu)
    {
        Assert.False(Closed, "a send on a closed socket");
        Sends.Add(new Sent(destination, payload.ToArray(), ttl, dontFragment));
        mtu = Mtu;
        return NextResult;
    }

    public void Close() => Closed = true;

    /// <summary>The host received <paramref name="payload"/> from <paramref name="source"/>, as the loop would report it.</summary>
    public void Deliver(IpEndpoint source, ReadOnlySpan<byte> payload, Instant now)
    {
        payload.CopyTo(Events.ReceiveBuffer);
        Events.OnHostDatagram(source, payload.Length, now);
    }
}
