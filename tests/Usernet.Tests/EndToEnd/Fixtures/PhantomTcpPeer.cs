using System.Buffers.Binary;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A TCP end the test drives by hand, to send what no well-behaved kernel would. It speaks
/// from the guest's namespace through a raw socket, as an address in the guest's subnet that
/// the guest's kernel does not own: so the kernel ignores Usernet's replies (no RST of its
/// own spoils the exchange) while the raw socket sees them.
/// </summary>
internal sealed class PhantomTcpPeer : IDisposable
{
    private readonly GuestPacketSocket _socket;
    private readonly MacAddress _mac;

    public PhantomTcpPeer(GuestSession session, Ipv4Address address)
    {
        _socket = session.OpenPacketSocket();
        _socket.SetReceiveTimeout(TimeSpan.FromMilliseconds(200));
        _mac = session.GuestMac();
        Address = address;
    }

    public Ipv4Address Address { get; }

    /// <summary>A segment as received from Usernet.</summary>
    public sealed record Segment(ushort SourcePort, ushort DestinationPort, uint Sequence, uint Acknowledgment, TcpFlags Flags, ushort Window, int PayloadLength);

    public void Send(Ipv4Address destination, ushort sourcePort, ushort destinationPort, uint sequence, uint acknowledgment,
        TcpFlags flags, ReadOnlySpan<byte> payload = default, ReadOnlySpan<byte> options = default, ushort window = 65535)
    {
        _socket.Send(TestFrames.Tcp(_mac, new IpEndpoint(Address, sourcePort), new IpEndpoint(destination, destinationPort),
            sequence, acknowledgment, flags, payload, options, window));
    }

    /// <summary>The next TCP segment from Usernet to this peer's <paramref name="port"/>, or null within the time.</summary>
    public Segment? Receive(ushort port, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            byte[]? frame = _socket.Receive();
            if (frame is null || !EthernetFrame.TryParse(frame, out var ethernet) || ethernet.EtherType != EtherType.Ipv4)
            {
                continue;
            }
            if (Ipv4Packet.TryParse(ethernet.Payload, out var ip) != Ipv4ParseError.None || ip.Destination != Address || ip.Protocol != IpProtocol.Tcp)
            {
                continue;
            }
            if (!TcpSegment.TryParse(ip.Payload, out var tcp) || tcp.DestinationPort != port)
            {
                continue;
            }
            return new Segment(tcp.SourcePort, tcp.DestinationPort, tcp.SequenceNumber, tcp.AcknowledgmentNumber, tcp.Flags, tcp.Window, tcp.Payload.Length);
        }
        return null;
    }

    /// <summary>MSS 1460 and window scale 7, as a SYN's options.</summary>
    public static byte[] SynOptions() => TcpSynOptionBytes.Build(mss: 1460, sackPermitted: false, timestamps: false, windowScale: 7);

    /// <summary>Opens a connection to <paramref name="destination"/>:<paramref name="port"/>; returns Usernet's ISN.</summary>
    public uint Connect(Ipv4Address destination, ushort port, ushort sourcePort, uint isn)
    {
        Send(destination, sourcePort, port, isn, 0, TcpFlags.Syn, options: SynOptions());
        var synAck = Receive(sourcePort, TimeSpan.FromSeconds(5));
        Assert.NotNull(synAck);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(isn + 1, synAck.Acknowledgment);
        Send(destination, sourcePort, port, isn + 1, synAck.Sequence + 1, TcpFlags.Ack, window: 1024);
        return synAck.Sequence;
    }

    public static ushort ReadPort(ReadOnlySpan<byte> data) => BinaryPrimitives.ReadUInt16BigEndian(data);

    public void Dispose() => _socket.Dispose();
}
