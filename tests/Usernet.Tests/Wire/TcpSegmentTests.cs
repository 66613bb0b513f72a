using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class TcpSegmentTests
{
    private static TcpSegment Segment(byte[] frame)
    {
        var ip = Frames.Ipv6(frame);
        Assert.Equal(IpProtocol.Tcp, ip.NextHeader);
        Assert.True(TcpSegment.TryParse(ip.Payload, out var segment));
        Assert.True(segment.VerifyChecksum(ip.PseudoHeaderSum(IpProtocol.Tcp, ip.Payload.Length)));
        return segment;
    }

    [Fact]
    public void ParsesTheCapturedHandshake()
    {
        var syn = Segment(Ipv6Captures.TcpSyn);
        Assert.Equal((40000, 5000), (syn.SourcePort, syn.DestinationPort));
        Assert.Equal(TcpFlags.Syn, syn.Flags);
        Assert.Equal(40, syn.HeaderLength);
        Assert.Equal(20, syn.Options.Length);
        Assert.True(syn.Payload.IsEmpty);
        Assert.True(syn.TryReadSynOptions(out var options));
        // Linux on a 1500-byte link: 1500 - 40 - 20, SACK, and its scale for a large buffer.
        Assert.Equal(new TcpSynOptions(1440, 10, true), options);

        var synAck = Segment(Ipv6Captures.TcpSynAck);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(syn.SequenceNumber + 1, synAck.AcknowledgmentNumber);
        Assert.Equal((5000, 40000), (synAck.SourcePort, synAck.DestinationPort));
        Assert.True(synAck.TryReadSynOptions(out var answered));
        Assert.Equal((ushort)1440, answered.Mss);

        var data = Segment(Ipv6Captures.TcpData);
        Assert.Equal(TcpFlags.Psh | TcpFlags.Ack, data.Flags);
        Assert.True(data.Has(TcpFlags.Psh));
        Assert.False(data.Has(TcpFlags.Syn));
        Assert.Equal(syn.SequenceNumber + 1, data.SequenceNumber);
        Assert.Equal(synAck.SequenceNumber + 1, data.AcknowledgmentNumber);
        Assert.Equal(32, data.HeaderLength);
        Assert.Equal("hello usernet\n"u8.ToArray(), data.Payload.ToArray());

        var fin = Segment(Ipv6Captures.TcpFin);
        Assert.Equal(TcpFlags.Fin | TcpFlags.Ack, fin.Flags);
        Assert.Equal(data.SequenceNumber + 14, fin.SequenceNumber);
    }

    [Theory]
    [InlineData(nameof(Ipv6Captures.TcpSyn))]
    [InlineData(nameof(Ipv6Captures.TcpSynAck))]
    [InlineData(nameof(Ipv6Captures.TcpData))]
    [InlineData(nameof(Ipv6Captures.TcpFin))]
    public void RebuildsCapturedSegments(string name)
    {
        byte[] frame = Frames.Captured(name);
        var ip = Frames.Ipv6(frame);
        var segment = Segment(frame);

        byte[] rebuilt = new byte[segment.Buffer.Length];
        TcpSegment.WriteHeader(rebuilt, segment.SourcePort, segment.DestinationPort, segment.SequenceNumber, segment.AcknowledgmentNumber,
            segment.Flags, segment.Window, segment.HeaderLength);
        segment.Options.CopyTo(rebuilt.AsSpan(TcpSegment.MinHeaderLength));
        segment.Payload.CopyTo(rebuilt.AsSpan(segment.HeaderLength));
        new TcpSegment(rebuilt).FillChecksum(ip.PseudoHeaderSum(IpProtocol.Tcp, rebuilt.Length));

        Assert.Equal(Convert.ToHexString(segment.Buffer), Convert.ToHexString(rebuilt));
    }

    [Theory]
    [InlineData(1460, (byte)7)]
    [InlineData(536, null)]
    [InlineData(65495, (byte)14)]
    public void SynOptionsWrittenAreReadBack(int mss, byte? scale)
    {
        byte[] segment = new byte[TcpSegment.MinHeaderLength + 8];
        TcpSegment.WriteHeader(segment, 1, 2, 3, 0, TcpFlags.Syn, 65535, segment.Length);
        Assert.Equal(8, TcpSegment.WriteSynOptions(segment.AsSpan(TcpSegment.MinHeaderLength), (ushort)mss, scale));
        Assert.True(TcpSegment.TryParse(segment, out var parsed));
        Assert.True(parsed.TryReadSynOptions(out var options));
        Assert.Equal(new TcpSynOptions((ushort)mss, scale, false), options);
    }

    [Fact]
    public void AWindowScaleAbove14IsRead14()
    {
        byte[] syn = Segment(Ipv6Captures.TcpSyn).Buffer.ToArray();
        // Kind 3 is the last option of Linux's SYN: NOP, window scale, length 3, shift.
        Assert.Equal(3, syn[^3]);
        syn[^1] = 15;
        Assert.True(TcpSegment.TryParse(syn, out var segment));
        Assert.True(segment.TryReadSynOptions(out var options));
        Assert.Equal((byte)14, options.WindowScale);
    }

    [Fact]
    public void RefusesHeadersThatDoNotFit()
    {
        byte[] segment = Segment(Ipv6Captures.TcpData).Buffer.ToArray();
        Assert.False(TcpSegment.TryParse(segment.AsSpan(0, 19), out _));
        byte[] shortOffset = segment.ToArray();
        shortOffset[12] = 4 << 4;
        Assert.False(TcpSegment.TryParse(shortOffset, out _));
        // 46 bytes: a data offset of 11 words (44 bytes) fits, 12 (48) does not.
        Assert.Equal(46, segment.Length);
        byte[] longOffset = segment.ToArray();
        longOffset[12] = 12 << 4;
        Assert.False(TcpSegment.TryParse(longOffset, out _));
        longOffset[12] = 11 << 4;
        Assert.True(TcpSegment.TryParse(longOffset, out _));
    }

    [Theory]
    // An option whose length runs past the header; a length below 2; a kind with no room for its length.
    [InlineData("01010205")]
    [InlineData("04010000")]
    [InlineData("01010102")]
    public void RefusesMalformedOptions(string optionsHex)
    {
        byte[] segment = new byte[TcpSegment.MinHeaderLength + 4];
        TcpSegment.WriteHeader(segment, 1, 2, 3, 0, TcpFlags.Syn, 65535, segment.Length);
        Convert.FromHexString(optionsHex).CopyTo(segment.AsSpan(TcpSegment.MinHeaderLength));
        Assert.True(TcpSegment.TryParse(segment, out var parsed));
        Assert.False(parsed.TryReadSynOptions(out _), optionsHex);
    }

    [Fact]
    public void TheEndOptionStopsTheWalk()
    {
        byte[] segment = new byte[TcpSegment.MinHeaderLength + 8];
        TcpSegment.WriteHeader(segment, 1, 2, 3, 0, TcpFlags.Syn, 65535, segment.Length);
        // MSS, then End-of-options, then garbage that would be malformed if read.
        Convert.FromHexString("02040200" + "00" + "02ff01").CopyTo(segment.AsSpan(TcpSegment.MinHeaderLength));
        Assert.True(new TcpSegment(segment).TryReadSynOptions(out var options));
        Assert.Equal((ushort)512, options.Mss);
    }
}
