using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class IcmpV4MessageTests
{
    [Fact]
    public void ParsesCapturedEchoRequest()
    {
        var icmp = Frames.Icmp(Captures.PingRequest);
        Assert.Equal(IcmpV4Type.EchoRequest, icmp.Type);
        Assert.Equal(0, icmp.Code);
        Assert.False(icmp.IsError);
        Assert.Equal(1, icmp.SequenceNumber);
        Assert.Equal(64, icmp.Buffer.Length);
        Assert.Equal(56, icmp.Payload.Length);
        // iputils ping: a 16-byte timestamp, then bytes counting up from 0x10.
        Assert.Equal(0x10, icmp.Payload[16]);
        Assert.Equal(0x37, icmp.Payload[^1]);
    }

    [Fact]
    public void CapturedReplyEchoesTheRequest()
    {
        var request = Frames.Icmp(Captures.PingRequest);
        var reply = Frames.Icmp(Captures.PingReply);
        Assert.Equal(IcmpV4Type.EchoReply, reply.Type);
        Assert.Equal(request.Identifier, reply.Identifier);
        Assert.Equal(request.SequenceNumber, reply.SequenceNumber);
        Assert.Equal(request.Payload.ToArray(), reply.Payload.ToArray());
    }

    [Theory]
    [InlineData(nameof(Captures.PingRequest))]
    [InlineData(nameof(Captures.PingReply))]
    [InlineData(nameof(Captures.RecordRoutePingReply))]
    public void SettersRebuildCapturedEchoes(string name)
    {
        var captured = Frames.Icmp(Frames.Captured(name));
        byte[] rebuilt = new byte[captured.Buffer.Length];
        var icmp = new IcmpV4Message(rebuilt)
        {
            Type = captured.Type,
            Code = captured.Code,
            Identifier = captured.Identifier,
            SequenceNumber = captured.SequenceNumber,
        };
        captured.Payload.CopyTo(icmp.Payload);
        icmp.FillChecksum();
        Assert.Equal(captured.Buffer.ToArray(), rebuilt);
    }

    [Fact]
    public void ReplyMadeInPlaceEqualsTheKernelsReply()
    {
        // How the gateway answers ping: turn the request around in its own buffer.
        byte[] frame = Captures.PingRequest;
        var ip = Frames.Ipv4(frame);
        Assert.True(IcmpV4Message.TryParse(ip.Payload, out var icmp, out _));
        icmp.Type = IcmpV4Type.EchoReply;
        icmp.FillChecksum();
        Assert.Equal(Frames.Icmp(Captures.PingReply).Buffer.ToArray(), icmp.Buffer.ToArray());
    }

    [Fact]
    public void ParsesCapturedPortUnreachable()
    {
        var icmp = Frames.Icmp(Captures.PortUnreachable);
        Assert.Equal(IcmpV4Type.DestinationUnreachable, icmp.Type);
        Assert.Equal(IcmpV4Code.PortUnreachable, icmp.Code);
        Assert.True(icmp.IsError);

        // RFC 1812 §4.3.2.3: Linux quotes as much of the datagram as fits, here all of it.
        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(icmp.Payload, out var quoted));
        Assert.Equal(Frames.AddressA, quoted.Source);
        Assert.Equal(Frames.AddressB, quoted.Destination);
        Assert.Equal(IpProtocol.Udp, quoted.Protocol);
        Assert.True(UdpDatagram.TryParse(quoted.Payload, out var udp));
        Assert.Equal(40001, udp.SourcePort);
        Assert.Equal(4001, udp.DestinationPort);
        Assert.Equal(Frames.Ipv4(Captures.UdpToClosedPort).Buffer.ToArray(), icmp.Payload.ToArray());
    }

    [Fact]
    public void BuildsCapturedPortUnreachable()
    {
        var captured = Frames.Icmp(Captures.PortUnreachable);
        byte[] quoted = Frames.Ipv4(Captures.UdpToClosedPort).Buffer.ToArray();
        byte[] rebuilt = new byte[IcmpV4Message.HeaderLength + quoted.Length];
        var icmp = new IcmpV4Message(rebuilt)
        {
            Type = IcmpV4Type.DestinationUnreachable,
            Code = IcmpV4Code.PortUnreachable,
        };
        quoted.CopyTo(icmp.Payload);
        icmp.FillChecksum();
        Assert.Equal(captured.Buffer.ToArray(), rebuilt);
    }

    [Fact]
    public void FragmentationNeededCarriesTheMtu()
    {
        // RFC 1191 §4: the next-hop MTU sits in the low half of the second word.
        byte[] buffer = new byte[IcmpV4Message.HeaderLength + 28];
        var icmp = new IcmpV4Message(buffer)
        {
            Type = IcmpV4Type.DestinationUnreachable,
            Code = IcmpV4Code.FragmentationNeeded,
            NextHopMtu = 1400,
        };
        icmp.FillChecksum();
        Assert.Equal([0x00, 0x00, 0x05, 0x78], buffer[4..8]);
        Assert.True(IcmpV4Message.TryParse(buffer, out var parsed, out bool valid));
        Assert.True(valid);
        Assert.True(parsed.IsError);
        Assert.Equal(1400, parsed.NextHopMtu);
    }

    [Fact]
    public void RejectsEveryTruncatedLength()
    {
        byte[] bytes = Frames.Icmp(Captures.PingRequest).Buffer.ToArray();
        for (int length = 0; length < IcmpV4Message.HeaderLength; length++)
        {
            Assert.False(IcmpV4Message.TryParse(bytes.AsSpan(0, length), out _, out bool valid));
            Assert.False(valid);
        }
        // Longer but cut: the header is there, the checksum no longer matches.
        Assert.True(IcmpV4Message.TryParse(bytes.AsSpan(0, 20), out _, out bool cutValid));
        Assert.False(cutValid);
    }

    [Fact]
    public void ReportsABadChecksum()
    {
        byte[] bytes = Frames.Icmp(Captures.PingRequest).Buffer.ToArray();
        for (int offset = 0; offset < bytes.Length; offset++)
        {
            bytes[offset] ^= 0x01;
            Assert.True(IcmpV4Message.TryParse(bytes, out _, out bool valid));
            Assert.False(valid);
            bytes[offset] ^= 0x01;
        }
    }
}
