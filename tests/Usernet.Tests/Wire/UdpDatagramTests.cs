using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class UdpDatagramTests
{
    [Fact]
    public void ParsesCapturedDatagram()
    {
        var packet = Frames.Ipv4(Captures.UdpToOpenPort);
        Assert.True(UdpDatagram.TryParse(packet.Payload, out var udp));
        Assert.Equal(40000, udp.SourcePort);
        Assert.Equal(4000, udp.DestinationPort);
        Assert.Equal(22, udp.Length);
        Assert.Equal(22, udp.Buffer.Length);
        Assert.Equal("hello usernet\n"u8.ToArray(), udp.Payload.ToArray());
        Assert.NotEqual(0, udp.Checksum);
        Assert.True(udp.VerifyChecksum(packet.PseudoHeaderSum(udp.Length), isIpv6: false));
    }

    [Fact]
    public void ParsesCapturedDhcpDatagrams()
    {
        var discover = Frames.Udp(Captures.DhcpDiscover);
        Assert.Equal(DhcpMessage.ClientPort, discover.SourcePort);
        Assert.Equal(DhcpMessage.ServerPort, discover.DestinationPort);
        Assert.Equal(308, discover.Length);

        var offer = Frames.Udp(Captures.DhcpOffer);
        Assert.Equal(DhcpMessage.ServerPort, offer.SourcePort);
        Assert.Equal(DhcpMessage.ClientPort, offer.DestinationPort);
    }

    [Theory]
    [InlineData(nameof(Captures.UdpToOpenPort))]
    [InlineData(nameof(Captures.UdpToClosedPort))]
    [InlineData(nameof(Captures.DhcpDiscover))]
    [InlineData(nameof(Captures.DhcpOffer))]
    [InlineData(nameof(Captures.DhcpRequest))]
    [InlineData(nameof(Captures.DhcpAck))]
    public void RebuildsCapturedFramesWholly(string name)
    {
        // Ethernet, IPv4 and UDP written from the parsed fields, checksums filled: the same bytes.
        byte[] captured = Frames.Captured(name);
        Assert.True(EthernetFrame.TryParse(captured, out var ethernet));
        var ip = Frames.Ipv4(captured);
        var udp = Frames.Udp(captured);

        byte[] rebuilt = new byte[captured.Length];
        EthernetFrame.WriteHeader(rebuilt, ethernet.Destination, ethernet.Source, EtherType.Ipv4);
        Span<byte> ipBuffer = rebuilt.AsSpan(EthernetFrame.HeaderLength);
        int headerLength = Ipv4Packet.WriteHeader(
            ipBuffer, ip.Source, ip.Destination, IpProtocol.Udp, udp.Length,
            ip.Identification, ip.TimeToLive, ip.DontFragment);
        var rebuiltIp = new Ipv4Packet(ipBuffer) { TypeOfService = ip.TypeOfService };
        rebuiltIp.FillChecksum();

        Span<byte> udpBuffer = ipBuffer[headerLength..];
        UdpDatagram.WriteHeader(udpBuffer, udp.SourcePort, udp.DestinationPort, udp.Payload.Length);
        udp.Payload.CopyTo(udpBuffer[UdpDatagram.HeaderLength..]);
        var rebuiltUdp = new UdpDatagram(udpBuffer[..udp.Length]);
        rebuiltUdp.FillChecksum(rebuiltIp.PseudoHeaderSum(udp.Length));

        Assert.Equal(captured, rebuilt);
    }

    [Fact]
    public void SettersWriteTheirFields()
    {
        byte[] buffer = new byte[10];
        var udp = new UdpDatagram(buffer)
        {
            SourcePort = 0x1234,
            DestinationPort = 53,
            Length = 10,
            Checksum = 0xBEEF,
        };
        Assert.Equal(Convert.FromHexString("12340035000ABEEF0000"), buffer);
        Assert.Equal(2, udp.Payload.Length);
    }

    [Fact]
    public void ViewIsCutToLength()
    {
        // The IP payload may be longer than the datagram; the rest is not UDP data.
        byte[] bytes = new byte[40];
        Frames.Udp(Captures.UdpToOpenPort).Buffer.CopyTo(bytes);
        Assert.True(UdpDatagram.TryParse(bytes, out var udp));
        Assert.Equal(22, udp.Buffer.Length);
        Assert.Equal(14, udp.Payload.Length);
    }

    [Fact]
    public void RejectsEveryTruncatedLength()
    {
        byte[] bytes = Frames.Udp(Captures.UdpToOpenPort).Buffer.ToArray();
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.False(UdpDatagram.TryParse(bytes.AsSpan(0, length), out _));
        }
        Assert.True(UdpDatagram.TryParse(bytes, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(23)]
    [InlineData(65535)]
    public void RejectsLengthOutsideHeaderAndBuffer(int length)
    {
        byte[] bytes = Frames.Udp(Captures.UdpToOpenPort).Buffer.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), (ushort)length);
        Assert.False(UdpDatagram.TryParse(bytes, out _));
    }

    [Fact]
    public void AcceptsAnEmptyDatagram()
    {
        byte[] bytes = new byte[UdpDatagram.HeaderLength];
        UdpDatagram.WriteHeader(bytes, 1, 2, 0);
        Assert.True(UdpDatagram.TryParse(bytes, out var udp));
        Assert.True(udp.Payload.IsEmpty);
    }

    [Fact]
    public void DetectsDamagedPayload()
    {
        var packet = Frames.Ipv4(Captures.UdpToOpenPort);
        Assert.True(UdpDatagram.TryParse(packet.Payload, out var udp));
        ulong pseudo = packet.PseudoHeaderSum(udp.Length);
        udp.Payload[0] ^= 0x20;
        Assert.False(udp.VerifyChecksum(pseudo, isIpv6: false));
        // The pseudo-header covers the addresses: a datagram moved to another host fails too.
        udp.Payload[0] ^= 0x20;
        Assert.True(udp.VerifyChecksum(pseudo, isIpv6: false));
        Assert.False(udp.VerifyChecksum(InternetChecksum.PseudoHeaderV4(Frames.AddressA, Frames.AddressA, IpProtocol.Udp, udp.Length), isIpv6: false));
    }

    [Fact]
    public void ZeroChecksumIsNoChecksumOnlyOverIpv4()
    {
        var packet = Frames.Ipv4(Captures.UdpToOpenPort);
        Assert.True(UdpDatagram.TryParse(packet.Payload, out var udp));
        udp.Checksum = 0;
        // RFC 768: zero means the sender computed none. RFC 8200 §8.1: over IPv6 it is invalid.
        Assert.True(udp.VerifyChecksum(packet.PseudoHeaderSum(udp.Length), isIpv6: false));
        Assert.False(udp.VerifyChecksum(0, isIpv6: true));
    }

    [Fact]
    public void ComputedZeroIsSentAsAllOnes()
    {
        // Choose the payload word so that the checksum comes out as zero: it must go out as 0xFFFF.
        byte[] bytes = new byte[UdpDatagram.HeaderLength + 2];
        UdpDatagram.WriteHeader(bytes, 40000, 4000, 2);
        ulong pseudo = InternetChecksum.PseudoHeaderV4(Frames.AddressA, Frames.AddressB, IpProtocol.Udp, bytes.Length);
        var udp = new UdpDatagram(bytes);
        udp.FillChecksum(pseudo);
        ushort withZeroWord = udp.Checksum;
        udp.Checksum = 0;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(UdpDatagram.HeaderLength), withZeroWord);

        udp.FillChecksum(pseudo);
        Assert.Equal(0xFFFF, udp.Checksum);
        Assert.True(udp.VerifyChecksum(pseudo, isIpv6: false));
        Assert.True(udp.VerifyChecksum(pseudo, isIpv6: true));
    }
}
