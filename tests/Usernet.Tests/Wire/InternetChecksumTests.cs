using System.Buffers.Binary;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class InternetChecksumTests
{
    /// <summary>
    /// RFC 1071 §4.1, as plainly as it can be written: 16-bit big-endian words, an odd last byte
    /// padded with zero, end-around carries folded, then complemented.
    /// </summary>
    private static ushort Reference(ReadOnlySpan<byte> data)
    {
        ulong sum = 0;
        for (int i = 0; i + 1 < data.Length; i += 2)
        {
            sum += (ulong)((data[i] << 8) | data[i + 1]);
        }
        if (data.Length % 2 == 1)
        {
            sum += (ulong)data[^1] << 8;
        }
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] data = new byte[length];
        random.NextBytes(data);
        return data;
    }

    [Fact]
    public void MatchesReferenceForEveryLengthUpTo200()
    {
        var random = new Random(1071);
        for (int length = 0; length <= 200; length++)
        {
            for (int round = 0; round < 8; round++)
            {
                byte[] data = RandomBytes(random, length);
                Assert.Equal(Reference(data), InternetChecksum.Compute(data));
            }
        }
    }

    [Fact]
    public void MatchesReferenceAtUnalignedStarts()
    {
        // The sum reads 64-bit words; spans that start anywhere in an array must work the same.
        var random = new Random(2);
        byte[] data = RandomBytes(random, 300);
        for (int start = 0; start < 16; start++)
        {
            for (int length = 0; length < 100; length += 7)
            {
                var slice = data.AsSpan(start, length);
                Assert.Equal(Reference(slice), InternetChecksum.Compute(slice));
            }
        }
    }

    [Theory]
    [InlineData(3 << 20)]
    [InlineData((2 << 20) + 33)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(9001)]
    public void MatchesReferenceForLargeBuffers(int length)
    {
        var random = new Random(length);
        byte[] data = RandomBytes(random, length);
        Assert.Equal(Reference(data), InternetChecksum.Compute(data));

        // All ones maximises carries; all zeros sums to zero and checksums to all ones.
        Array.Fill(data, (byte)0xFF);
        Assert.Equal(Reference(data), InternetChecksum.Compute(data));
        Array.Clear(data);
        Assert.Equal(0xFFFF, InternetChecksum.Compute(data));
    }

    [Fact]
    public void AddingInPiecesAtEvenBoundariesEqualsAddingAtOnce()
    {
        var random = new Random(3);
        for (int round = 0; round < 500; round++)
        {
            byte[] data = RandomBytes(random, random.Next(0, 400));
            ulong whole = InternetChecksum.Add(0, data);
            ulong pieces = 0;
            int start = 0;
            while (start < data.Length)
            {
                // Even lengths, so every piece but the last starts at an even offset; the last
                // piece takes the rest, odd or not, and only it gets the pad byte.
                int length = random.Next(4) == 0
                    ? data.Length - start
                    : Math.Min(2 * random.Next(0, 40), data.Length - start);
                pieces = InternetChecksum.Add(pieces, data.AsSpan(start, length));
                start += length;
            }
            Assert.Equal(InternetChecksum.Finish(whole), InternetChecksum.Finish(pieces));
        }
    }

    [Fact]
    public void ChecksumWrittenIntoDataMakesItValid()
    {
        var random = new Random(4);
        for (int length = 2; length < 200; length += 2)
        {
            byte[] data = RandomBytes(random, length);
            int at = random.Next(0, length / 2) * 2;
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(at), 0);
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(at), InternetChecksum.Compute(data));
            Assert.True(InternetChecksum.IsValid(InternetChecksum.Add(0, data)));
            Assert.Equal(0, InternetChecksum.Compute(data));
        }
    }

    [Fact]
    public void WordsAndUInt32AddLikeTheirBytes()
    {
        var random = new Random(5);
        for (int round = 0; round < 100; round++)
        {
            ushort word = (ushort)random.Next(0, 65536);
            uint value = (uint)random.NextInt64(0, 1L << 32);
            byte[] bytes = new byte[6];
            BinaryPrimitives.WriteUInt16BigEndian(bytes, word);
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(2), value);
            ulong sum = InternetChecksum.AddUInt32(InternetChecksum.AddWord(0, word), value);
            Assert.Equal(Reference(bytes), InternetChecksum.Finish(sum));
        }
    }

    [Fact]
    public void Ipv4PseudoHeaderMatchesReference()
    {
        var random = new Random(6);
        for (int round = 0; round < 200; round++)
        {
            var source = new Ipv4Address((uint)random.NextInt64(0, 1L << 32));
            var destination = new Ipv4Address((uint)random.NextInt64(0, 1L << 32));
            byte protocol = (byte)random.Next(0, 256);
            byte[] segment = RandomBytes(random, random.Next(0, 300));

            // RFC 768: source, destination, zero, protocol, UDP length; then the segment itself.
            byte[] pseudo = new byte[12 + segment.Length];
            source.Write(pseudo);
            destination.Write(pseudo.AsSpan(4));
            pseudo[9] = protocol;
            BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), (ushort)segment.Length);
            segment.CopyTo(pseudo, 12);

            ulong sum = InternetChecksum.PseudoHeaderV4(source, destination, protocol, segment.Length);
            Assert.Equal(Reference(pseudo), InternetChecksum.Finish(InternetChecksum.Add(sum, segment)));
        }
    }

    [Fact]
    public void Ipv6PseudoHeaderMatchesReference()
    {
        var random = new Random(7);
        for (int round = 0; round < 200; round++)
        {
            var source = Ipv6Address.Read(RandomBytes(random, 16));
            var destination = Ipv6Address.Read(RandomBytes(random, 16));
            byte nextHeader = (byte)random.Next(0, 256);
            // Upper-layer lengths above 65535 exist with jumbograms; the field is 32 bits.
            int length = random.Next(0, 3) == 0 ? random.Next(65536, int.MaxValue) : random.Next(0, 300);
            byte[] segment = RandomBytes(random, Math.Min(length, 300));

            // RFC 8200 §8.1: source, destination, 32-bit length, three zero bytes, next header.
            byte[] pseudo = new byte[40 + segment.Length];
            source.Write(pseudo);
            destination.Write(pseudo.AsSpan(16));
            BinaryPrimitives.WriteUInt32BigEndian(pseudo.AsSpan(32), (uint)length);
            pseudo[39] = nextHeader;
            segment.CopyTo(pseudo, 40);

            ulong sum = InternetChecksum.PseudoHeaderV6(source, destination, nextHeader, length);
            Assert.Equal(Reference(pseudo), InternetChecksum.Finish(InternetChecksum.Add(sum, segment)));
        }
    }

    [Fact]
    public void CapturedHeadersAndDatagramsVerify()
    {
        // Every IPv4 header the kernels sent, and every UDP datagram with its pseudo-header.
        foreach (byte[] frame in new[] { Captures.PingRequest, Captures.FragmentedPingReply2, Captures.RecordRoutePingReply })
        {
            var packet = Frames.Ipv4(frame);
            Assert.Equal(Reference(packet.Header), InternetChecksum.Compute(packet.Header));
            Assert.Equal(0, InternetChecksum.Compute(packet.Header));
        }
        foreach (byte[] frame in new[] { Captures.UdpToOpenPort, Captures.DhcpDiscover, Captures.DhcpAck })
        {
            var packet = Frames.Ipv4(frame);
            ulong sum = packet.PseudoHeaderSum(packet.Payload.Length);
            Assert.True(InternetChecksum.IsValid(InternetChecksum.Add(sum, packet.Payload)));
        }
    }

    /// <summary>
    /// A UDP frame as a guest with checksum offload sends it: the field holds the
    /// pseudo-header's sum, folded and not inverted, as Linux leaves it for CHECKSUM_PARTIAL.
    /// </summary>
    private static (byte[] Partial, byte[] Complete, int Start) PartialUdpFrame(int payloadLength, int seed)
    {
        var random = new Random(seed);
        byte[] payload = RandomBytes(random, payloadLength);
        byte[] complete = TestFrames.Udp(TestFrames.GuestMac, TestFrames.StackMac, TestFrames.Guest, Ipv4Address.Parse("198.18.0.1"), 40000, 53, payload);
        int start = EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength;
        ulong pseudo = InternetChecksum.PseudoHeaderV4(TestFrames.Guest, Ipv4Address.Parse("198.18.0.1"), IpProtocol.Udp, UdpDatagram.HeaderLength + payloadLength);
        byte[] partial = (byte[])complete.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(partial.AsSpan(start + 6), (ushort)~InternetChecksum.Finish(pseudo));
        return (partial, complete, start);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(17, 3)]
    [InlineData(1400, 4)]
    [InlineData(9001, 5)]
    public void APartialChecksumIsCompletedToWhatTheSenderWouldHaveWritten(int payloadLength, int seed)
    {
        var (partial, complete, start) = PartialUdpFrame(payloadLength, seed);
        Assert.True(InternetChecksum.CompletePartial(partial, start, 6));
        Assert.Equal(complete, partial);
    }

    [Fact]
    public void ACompletedChecksumOfZeroIsWrittenAsAllOnes()
    {
        // Words that sum to all ones complement to zero, which UDP reserves for "no checksum".
        byte[] data = new byte[10];
        BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(8), 0xFFFF);
        Assert.True(InternetChecksum.CompletePartial(data, 0, 6));
        Assert.Equal(0xFFFF, BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(6)));
        Assert.True(InternetChecksum.IsValid(InternetChecksum.Add(0, data)));
    }

    [Theory]
    [InlineData(-1, 6)]
    [InlineData(0, -1)]
    [InlineData(42, 6)]
    [InlineData(34, 7)]
    [InlineData(65535, 65535)]
    public void PositionsOutsideTheDataAreRefusedAndChangeNothing(int start, int offset)
    {
        byte[] data = new byte[42];
        new Random(start ^ offset).NextBytes(data);
        byte[] before = (byte[])data.Clone();
        Assert.False(InternetChecksum.CompletePartial(data, start, offset));
        Assert.Equal(before, data);
    }
}
