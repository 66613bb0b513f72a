using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class Ipv4PacketTests
{
    private static byte[] IpOf(byte[] frame) => frame[EthernetFrame.HeaderLength..];

    [Fact]
    public void ParsesCapturedPing()
    {
        var packet = Frames.Ipv4(Captures.PingRequest);
        Assert.Equal(4, packet.Version);
        Assert.Equal(20, packet.HeaderLength);
        Assert.Equal(0, packet.TypeOfService);
        Assert.Equal(84, packet.TotalLength);
        Assert.Equal(4493, packet.Identification);
        Assert.True(packet.DontFragment);
        Assert.False(packet.MoreFragments);
        Assert.Equal(0, packet.FragmentOffset);
        Assert.False(packet.IsFragment);
        Assert.Equal(64, packet.TimeToLive);
        Assert.Equal(IpProtocol.Icmp, packet.Protocol);
        Assert.Equal(0x92F4, packet.Checksum);
        Assert.True(packet.VerifyChecksum());
        Assert.Equal(Frames.AddressA, packet.Source);
        Assert.Equal(Frames.AddressB, packet.Destination);
        Assert.Equal(20, packet.Header.Length);
        Assert.Equal(64, packet.Payload.Length);
        Assert.Equal(IpOf(Captures.PingRequest), packet.Buffer.ToArray());
    }

    [Fact]
    public void ParsesCapturedReplyWithoutDontFragment()
    {
        var packet = Frames.Ipv4(Captures.PingReply);
        Assert.Equal(8807, packet.Identification);
        Assert.False(packet.DontFragment);
        Assert.Equal(Frames.AddressB, packet.Source);
        Assert.Equal(Frames.AddressA, packet.Destination);
    }

    [Fact]
    public void ParsesCapturedFragments()
    {
        var first = Frames.Ipv4(Captures.FragmentedPingRequest1);
        Assert.True(first.IsFragment);
        Assert.True(first.MoreFragments);
        Assert.False(first.DontFragment);
        Assert.Equal(0, first.FragmentOffset);
        Assert.Equal(1480, first.Payload.Length);

        var middle = Frames.Ipv4(Captures.FragmentedPingRequest2);
        Assert.True(middle.IsFragment);
        Assert.True(middle.MoreFragments);
        Assert.Equal(1480, middle.FragmentOffset);
        Assert.Equal(1480, middle.Payload.Length);

        var last = Frames.Ipv4(Captures.FragmentedPingRequest3);
        Assert.True(last.IsFragment);
        Assert.False(last.MoreFragments);
        Assert.Equal(2960, last.FragmentOffset);
        Assert.Equal(48, last.Payload.Length);

        Assert.Equal(first.Identification, middle.Identification);
        Assert.Equal(first.Identification, last.Identification);
        Assert.Equal(4541, last.Identification);
    }

    [Fact]
    public void ParsesCapturedHeaderWithOptions()
    {
        // ping -R: NOP, then record route (RFC 791 §3.1: type 7, length 39, pointer) with the
        // sender's address already recorded.
        var packet = Frames.Ipv4(Captures.RecordRoutePingRequest);
        Assert.Equal(60, packet.HeaderLength);
        Assert.Equal(124, packet.TotalLength);
        Assert.Equal(64, packet.Payload.Length);
        Assert.Equal(IpProtocol.Icmp, packet.Protocol);
        Assert.True(packet.VerifyChecksum());
        Span<byte> options = packet.Header[20..];
        Assert.Equal([1, 7, 39, 8], options[..4].ToArray());
        Assert.Equal(Frames.AddressA, Ipv4Address.Read(options[4..]));

        // The echoed payload starts after the options.
        Assert.Equal(IcmpV4Type.EchoRequest, packet.Payload[0]);
    }

    public static TheoryData<string> PlainHeaders =>
    [
        nameof(Captures.PingRequest),
        nameof(Captures.PingReply),
        nameof(Captures.UdpToOpenPort),
        nameof(Captures.UdpToClosedPort),
        nameof(Captures.PortUnreachable),
        nameof(Captures.FragmentedPingRequest1),
        nameof(Captures.FragmentedPingRequest2),
        nameof(Captures.FragmentedPingRequest3),
        nameof(Captures.FragmentedPingReply1),
        nameof(Captures.FragmentedPingReply3),
        nameof(Captures.DhcpDiscover),
        nameof(Captures.DhcpOffer),
        nameof(Captures.DhcpRequest),
        nameof(Captures.DhcpAck),
    ];

    [Theory]
    [MemberData(nameof(PlainHeaders))]
    public void WriteHeaderRebuildsCapturedPackets(string name)
    {
        byte[] captured = IpOf(Frames.Captured(name));
        var parsed = Frames.Ipv4(Frames.Captured(name));

        byte[] rebuilt = new byte[captured.Length];
        int headerLength = Ipv4Packet.WriteHeader(
            rebuilt, parsed.Source, parsed.Destination, parsed.Protocol, parsed.Payload.Length,
            parsed.Identification, parsed.TimeToLive, parsed.DontFragment);
        Assert.Equal(20, headerLength);
        parsed.Payload.CopyTo(rebuilt.AsSpan(headerLength));
        if (parsed.TypeOfService != 0 || parsed.IsFragment)
        {
            // DSCP CS6 on kernel-made ICMP errors and DHCP replies; fragment fields on fragments.
            var packet = new Ipv4Packet(rebuilt)
            {
                TypeOfService = parsed.TypeOfService,
                MoreFragments = parsed.MoreFragments,
                FragmentOffset = parsed.FragmentOffset,
            };
            packet.FillChecksum();
        }
        Assert.Equal(captured, rebuilt);
    }

    [Theory]
    [InlineData(nameof(Captures.RecordRoutePingRequest))]
    [InlineData(nameof(Captures.RecordRoutePingReply))]
    [InlineData(nameof(Captures.RecordRouteFragmentedRequest1))]
    [InlineData(nameof(Captures.RecordRouteFragmentedRequest2))]
    [InlineData(nameof(Captures.RecordRouteFragmentedReply2))]
    public void SettersRebuildCapturedPacketsWithOptions(string name)
    {
        byte[] captured = IpOf(Frames.Captured(name));
        var parsed = Frames.Ipv4(Frames.Captured(name));

        byte[] rebuilt = new byte[captured.Length];
        rebuilt[0] = (byte)(0x40 | (parsed.HeaderLength / 4));
        parsed.Header[20..].CopyTo(rebuilt.AsSpan(20));
        parsed.Payload.CopyTo(rebuilt.AsSpan(parsed.HeaderLength));
        var packet = new Ipv4Packet(rebuilt)
        {
            TotalLength = parsed.TotalLength,
            Identification = parsed.Identification,
            DontFragment = parsed.DontFragment,
            MoreFragments = parsed.MoreFragments,
            FragmentOffset = parsed.FragmentOffset,
            TimeToLive = parsed.TimeToLive,
            Protocol = parsed.Protocol,
            Source = parsed.Source,
            Destination = parsed.Destination,
        };
        packet.FillChecksum();
        Assert.Equal(captured, rebuilt);
        Assert.Equal(parsed.Checksum, packet.Checksum);
    }

    [Fact]
    public void EthernetPaddingIsCutOffAtTotalLength()
    {
        // veth sent the 49-byte frame unpadded; a NIC pads it to the 60-byte minimum.
        byte[] frame = new byte[60];
        Captures.UdpToClosedPort.CopyTo(frame, 0);
        frame.AsSpan(49).Fill(0xA5);
        var packet = Frames.Ipv4(frame);
        Assert.Equal(35, packet.TotalLength);
        Assert.Equal(35, packet.Buffer.Length);
        Assert.Equal(15, packet.Payload.Length);
        Assert.True(UdpDatagram.TryParse(packet.Payload, out var udp));
        Assert.Equal("closed\n"u8.ToArray(), udp.Payload.ToArray());
        Assert.True(udp.VerifyChecksum(packet.PseudoHeaderSum(udp.Length), isIpv6: false));
    }

    [Fact]
    public void RejectsEveryTruncatedLength()
    {
        byte[] packet = IpOf(Captures.PingRequest);
        for (int length = 0; length < Ipv4Packet.MinHeaderLength; length++)
        {
            Assert.Equal(Ipv4ParseError.Truncated, Ipv4Packet.TryParse(packet.AsSpan(0, length), out _));
        }
        // From the header on, a cut packet is one whose Total Length no longer fits.
        for (int length = Ipv4Packet.MinHeaderLength; length < packet.Length; length++)
        {
            Assert.Equal(Ipv4ParseError.BadTotalLength, Ipv4Packet.TryParse(packet.AsSpan(0, length), out _));
        }
        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(packet, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(15)]
    public void RejectsOtherVersions(int version)
    {
        byte[] packet = IpOf(Captures.PingRequest);
        packet[0] = (byte)((version << 4) | 5);
        Assert.Equal(Ipv4ParseError.BadVersion, Ipv4Packet.TryParse(packet, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    public void RejectsHeaderLengthBelowFive(int ihl)
    {
        byte[] packet = IpOf(Captures.PingRequest);
        packet[0] = (byte)(0x40 | ihl);
        Assert.Equal(Ipv4ParseError.BadHeaderLength, Ipv4Packet.TryParse(packet, out _));
    }

    [Fact]
    public void RejectsHeaderLengthBeyondTheBuffer()
    {
        // IHL 15 claims 60 bytes; give it every buffer length from 20 to 59.
        byte[] packet = IpOf(Captures.PingRequest);
        packet[0] = 0x4F;
        for (int length = Ipv4Packet.MinHeaderLength; length < 60; length++)
        {
            Assert.Equal(Ipv4ParseError.BadHeaderLength, Ipv4Packet.TryParse(packet.AsSpan(0, length), out _));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(19)]
    [InlineData(59)] // less than the 60-byte header with options
    [InlineData(125)]
    [InlineData(65535)]
    public void RejectsTotalLengthOutsideHeaderAndBuffer(int totalLength)
    {
        byte[] packet = IpOf(Captures.RecordRoutePingRequest);
        var view = new Ipv4Packet(packet) { TotalLength = totalLength };
        view.FillChecksum();
        Assert.Equal(Ipv4ParseError.BadTotalLength, Ipv4Packet.TryParse(packet, out _));
    }

    [Fact]
    public void AcceptsTotalLengthOfHeaderAlone()
    {
        byte[] packet = IpOf(Captures.PingRequest);
        var view = new Ipv4Packet(packet) { TotalLength = 20 };
        view.FillChecksum();
        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(packet, out var parsed));
        Assert.True(parsed.Payload.IsEmpty);
    }

    [Fact]
    public void RejectsAnyFlippedHeaderBit()
    {
        // Skips byte 0 and the Total Length, whose damage is caught by the earlier checks.
        byte[] captured = IpOf(Captures.RecordRoutePingRequest);
        for (int offset = 1; offset < 60; offset++)
        {
            if (offset is 2 or 3)
            {
                continue;
            }
            for (int bit = 0; bit < 8; bit++)
            {
                byte[] packet = (byte[])captured.Clone();
                packet[offset] ^= (byte)(1 << bit);
                Assert.Equal(Ipv4ParseError.BadChecksum, Ipv4Packet.TryParse(packet, out _));
            }
        }
    }

    [Fact]
    public void PayloadDamageIsNotAHeaderError()
    {
        byte[] packet = IpOf(Captures.PingRequest);
        packet[^1] ^= 0xFF;
        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(packet, out _));
    }

    [Fact]
    public void FlagSettersKeepTheOtherFlagsAndTheOffset()
    {
        byte[] buffer = IpOf(Captures.FragmentedPingRequest2);
        var packet = new Ipv4Packet(buffer);
        packet.DontFragment = true;
        Assert.True(packet.MoreFragments);
        Assert.Equal(1480, packet.FragmentOffset);
        Assert.Equal(0x60B9, BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(6)));

        packet.MoreFragments = false;
        packet.DontFragment = false;
        Assert.Equal(1480, packet.FragmentOffset);
        Assert.True(packet.IsFragment);

        packet.FragmentOffset = 65528;
        packet.MoreFragments = true;
        Assert.Equal(65528, packet.FragmentOffset);
        Assert.Equal(0x3FFF, BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(6)));

        packet.FragmentOffset = 0;
        packet.MoreFragments = false;
        Assert.False(packet.IsFragment);
    }

    [Fact]
    public void PseudoHeaderSumVerifiesTheCapturedDatagram()
    {
        var packet = Frames.Ipv4(Captures.UdpToOpenPort);
        ulong sum = packet.PseudoHeaderSum(packet.Payload.Length);
        Assert.Equal(
            InternetChecksum.PseudoHeaderV4(Frames.AddressA, Frames.AddressB, IpProtocol.Udp, 22),
            sum);
        Assert.True(InternetChecksum.IsValid(InternetChecksum.Add(sum, packet.Payload)));
    }
}
