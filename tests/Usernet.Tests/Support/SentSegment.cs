using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>A TCP segment the stack sent, copied out of its IPv4 or IPv6 frame after its checksum was checked.</summary>
internal sealed record SentSegment(
    IpEndpoint Source, IpEndpoint Destination, uint Sequence, uint Acknowledgment, TcpFlags Flags, ushort Window,
    TcpSynOptions Options, int HeaderLength, byte[] Payload)
{
    /// <summary>Sequence space the segment takes: its payload, and one each for SYN and FIN.</summary>
    public int Length => Payload.Length + (Has(TcpFlags.Syn) ? 1 : 0) + (Has(TcpFlags.Fin) ? 1 : 0);

    public bool Has(TcpFlags flag) => (Flags & flag) != 0;

    /// <summary>Parses a frame the stack sent, which must be a well-formed TCP segment.</summary>
    public static SentSegment Parse(byte[] frame)
    {
        Assert.True(TryParse(frame, out var segment), $"not a valid TCP frame: {Convert.ToHexString(frame)}");
        return segment!;
    }

    public static bool TryParse(byte[] frame, out SentSegment? segment)
    {
        segment = null;
        if (!EthernetFrame.TryParse(frame, out var ethernet))
        {
            return false;
        }
        IpAddress source;
        IpAddress destination;
        Span<byte> payload;
        ulong pseudoHeader;
        if (ethernet.EtherType == EtherType.Ipv4)
        {
            if (Ipv4Packet.TryParse(ethernet.Payload, out var ip) != Ipv4ParseError.None || ip.Protocol != IpProtocol.Tcp)
            {
                return false;
            }
            source = ip.Source;
            destination = ip.Destination;
            payload = ip.Payload;
            pseudoHeader = ip.PseudoHeaderSum(payload.Length);
        }
        else if (ethernet.EtherType == EtherType.Ipv6)
        {
            if (Ipv6Packet.TryParse(ethernet.Payload, out var ip) != Ipv6ParseError.None || ip.NextHeader != IpProtocol.Tcp)
            {
                return false;
            }
            source = ip.Source;
            destination = ip.Destination;
            payload = ip.Payload;
            pseudoHeader = ip.PseudoHeaderSum(IpProtocol.Tcp, payload.Length);
        }
        else
        {
            return false;
        }
        if (!TcpSegment.TryParse(payload, out var tcp) || !tcp.VerifyChecksum(pseudoHeader) || !tcp.TryReadSynOptions(out var options))
        {
            return false;
        }
        segment = new SentSegment(
            new IpEndpoint(source, tcp.SourcePort), new IpEndpoint(destination, tcp.DestinationPort), tcp.SequenceNumber,
            tcp.AcknowledgmentNumber, tcp.Flags, tcp.Window, options, tcp.HeaderLength, tcp.Payload.ToArray());
        return true;
    }

    public override string ToString() =>
        $"{Flags} seq={Sequence} ack={Acknowledgment} win={Window} len={Payload.Length} {Source} -> {Destination}";
}
