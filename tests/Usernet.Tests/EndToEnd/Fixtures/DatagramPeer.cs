using System.Net.Sockets;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// One guest behind `usernet serve --listen-dgram unixgram:PATH`, as QEMU's <c>-netdev dgram</c>
/// is: a unix datagram socket of its own that sends one Ethernet frame per datagram. The test
/// writes the frames, as a guest's kernel would, and reads what comes back.
/// </summary>
internal sealed class DatagramPeer : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

    /// <param name="localPath">Where the peer's own socket is bound: serve answers there.</param>
    /// <param name="servePath">Serve's datagram socket.</param>
    public DatagramPeer(string localPath, string servePath, MacAddress mac, Ipv4Address address)
    {
        Mac = mac;
        Address = address;
        _socket.Bind(new UnixDomainSocketEndPoint(localPath));
        _socket.Connect(new UnixDomainSocketEndPoint(servePath));
    }

    public MacAddress Mac { get; }

    public Ipv4Address Address { get; }

    /// <summary>Sends one frame; false when serve's socket refused it (nobody listens there any more).</summary>
    public bool Send(byte[] frame)
    {
        try
        {
            return _socket.Send(frame) == frame.Length;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Pings the gateway from <see cref="Address"/> and waits for the reply, skipping whatever
    /// else arrives (router advertisements, floods from other guests); false when none comes.
    /// </summary>
    public bool PingGateway(ushort sequence, TimeSpan timeout)
    {
        const ushort Identifier = 0x5e7e;
        if (!Send(TestFrames.IcmpEcho(Mac, Address, TestFrames.Gateway, Identifier, sequence)))
        {
            return false;
        }
        var deadline = DateTime.UtcNow + timeout;
        byte[] buffer = new byte[65600];
        while (DateTime.UtcNow < deadline)
        {
            if (!_socket.Poll(deadline - DateTime.UtcNow, SelectMode.SelectRead))
            {
                return false;
            }
            int length = _socket.Receive(buffer);
            if (IsEchoReply(buffer.AsSpan(0, length), Identifier, sequence))
            {
                return true;
            }
        }
        return false;
    }

    private bool IsEchoReply(Span<byte> frame, ushort identifier, ushort sequence) =>
        EthernetFrame.TryParse(frame, out var ethernet) && ethernet.Destination == Mac && ethernet.EtherType == EtherType.Ipv4
        && Ipv4Packet.TryParse(ethernet.Payload, out var ip) == Ipv4ParseError.None && ip.Protocol == IpProtocol.Icmp
        && ip.Source == TestFrames.Gateway && ip.Destination == Address && ip.Payload.Length >= IcmpV4Message.HeaderLength
        && new IcmpV4Message(ip.Payload) is { Type: IcmpV4Type.EchoReply } reply
        && reply.Identifier == identifier && reply.SequenceNumber == sequence;

    public void Dispose() => _socket.Dispose();
}
