using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class Icmpv6MessageTests
{
    private static Icmpv6Message Message(byte[] frame)
    {
        var ip = Frames.Ipv6(frame);
        Assert.Equal(IpProtocol.Icmpv6, ip.NextHeader);
        Assert.True(Icmpv6Message.TryParse(ip.Payload, ip.PseudoHeaderSum(IpProtocol.Icmpv6, ip.Payload.Length), out var message, out bool valid));
        Assert.True(valid);
        return message;
    }

    [Fact]
    public void ParsesTheCapturedEcho()
    {
        var request = Message(Ipv6Captures.Ping6Request);
        Assert.Equal(Icmpv6Type.EchoRequest, request.Type);
        Assert.Equal(0, request.Code);
        Assert.False(request.IsError);
        Assert.Equal(56, request.Body.Length);

        var reply = Message(Ipv6Captures.Ping6Reply);
        Assert.Equal(Icmpv6Type.EchoReply, reply.Type);
        Assert.Equal((request.Identifier, request.SequenceNumber), (reply.Identifier, reply.SequenceNumber));
        Assert.Equal(1, reply.SequenceNumber);
        Assert.Equal(request.Body.ToArray(), reply.Body.ToArray());
    }

    [Theory]
    [InlineData(nameof(Ipv6Captures.Ping6Request))]
    [InlineData(nameof(Ipv6Captures.Ping6Reply))]
    [InlineData(nameof(Ipv6Captures.NeighborSolicitation))]
    [InlineData(nameof(Ipv6Captures.NeighborAdvertisement))]
    [InlineData(nameof(Ipv6Captures.RouterSolicitation))]
    [InlineData(nameof(Ipv6Captures.RouterAdvertisement))]
    public void RebuildsCapturedMessages(string name)
    {
        byte[] frame = Frames.Captured(name);
        var ip = Frames.Ipv6(frame);
        var message = Message(frame);

        byte[] rebuilt = new byte[message.Buffer.Length];
        var written = new Icmpv6Message(rebuilt) { Type = message.Type, Code = message.Code, Word = message.Word };
        message.Body.CopyTo(written.Body);
        written.FillChecksum(ip.PseudoHeaderSum(IpProtocol.Icmpv6, rebuilt.Length));

        Assert.Equal(Convert.ToHexString(message.Buffer), Convert.ToHexString(rebuilt));
    }

    [Fact]
    public void AChangedByteOrAnotherPseudoHeaderFailsTheChecksum()
    {
        var ip = Frames.Ipv6(Ipv6Captures.Ping6Request);
        byte[] payload = ip.Payload.ToArray();
        ulong pseudo = ip.PseudoHeaderSum(IpProtocol.Icmpv6, payload.Length);
        payload[^1] ^= 0x01;
        Assert.True(Icmpv6Message.TryParse(payload, pseudo, out _, out bool valid));
        Assert.False(valid);

        payload[^1] ^= 0x01;
        // ICMPv6, unlike ICMP, covers the addresses (RFC 4443 §2.3).
        ulong elsewhere = InternetChecksum.PseudoHeaderV6(Frames.Ipv6A, Ipv6Address.Parse("2001:2:0:5::c"), IpProtocol.Icmpv6, payload.Length);
        Assert.True(Icmpv6Message.TryParse(payload, elsewhere, out _, out valid));
        Assert.False(valid);
    }

    [Fact]
    public void RefusesLessThanTheHeader() =>
        Assert.False(Icmpv6Message.TryParse(new byte[Icmpv6Message.HeaderLength - 1], 0, out _, out _));

    [Theory]
    [InlineData(Icmpv6Type.DestinationUnreachable, true)]
    [InlineData(Icmpv6Type.PacketTooBig, true)]
    [InlineData(Icmpv6Type.TimeExceeded, true)]
    [InlineData(Icmpv6Type.ParameterProblem, true)]
    [InlineData(127, true)]
    [InlineData(Icmpv6Type.EchoRequest, false)]
    [InlineData(Icmpv6Type.NeighborSolicitation, false)]
    [InlineData(255, false)]
    public void TypesBelow128AreErrors(byte type, bool error) => Assert.Equal(error, Icmpv6Message.IsErrorType(type));

    [Fact]
    public void TheWordIsTheMtuOfPacketTooBig()
    {
        byte[] buffer = new byte[Icmpv6Message.HeaderLength];
        var message = new Icmpv6Message(buffer) { Type = Icmpv6Type.PacketTooBig, Word = 1280 };
        Assert.Equal("0200000000000500", Convert.ToHexString(buffer).ToLowerInvariant());
        Assert.Equal(1280u, message.Word);
    }
}
