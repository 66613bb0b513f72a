using System.Buffers.Binary;
using Usernet.Stack;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

public sealed class Ipv6ReassemblerTests
{
    private static readonly ReassemblyLimits Limits = new(MaxDatagrams: 8, MaxFragmentsPerDatagram: 16, Timeout: TimeSpan.FromSeconds(60));
    private static readonly Instant T0 = Instant.FromMilliseconds(1_000);
    private const uint Id = 0x8765_4321;

    /// <summary>
    /// One fragment of <paramref name="payload"/>, bytes [offset, offset + length), behind a fragment
    /// header whose Next Header is <paramref name="upper"/>, and a hop-by-hop header first when asked.
    /// </summary>
    private static byte[] Fragment(
        byte[] payload, int offset, int length, bool more, uint id = Id, byte upper = IpProtocol.Udp,
        Ipv6Address? source = null, bool hopByHop = false)
    {
        int extensions = (hopByHop ? 8 : 0) + 8;
        byte[] packet = new byte[Ipv6Packet.HeaderLength + extensions + length];
        Ipv6Packet.WriteHeader(packet, source ?? Frames.Ipv6A, Frames.Ipv6B, hopByHop ? IpProtocol.HopByHop : IpProtocol.Ipv6Fragment,
            extensions + length, 64, flowLabel: 0x12345);
        int at = Ipv6Packet.HeaderLength;
        if (hopByHop)
        {
            // Next header, length 0 (8 bytes), then a PadN option filling the rest.
            packet[at] = IpProtocol.Ipv6Fragment;
            packet[at + 2] = 1;
            packet[at + 3] = 4;
            at += 8;
        }
        Ipv6Packet.WriteFragmentHeader(packet.AsSpan(at), upper, offset, more, id);
        payload.AsSpan(offset, length).CopyTo(packet.AsSpan(at + 8));
        return packet;
    }

    /// <summary>The packet that the fragments of <see cref="Fragment"/> came from: the first fragment's header, no fragment header.</summary>
    private static byte[] Whole(byte[] payload, byte upper = IpProtocol.Udp)
    {
        byte[] packet = new byte[Ipv6Packet.HeaderLength + payload.Length];
        Ipv6Packet.WriteHeader(packet, Frames.Ipv6A, Frames.Ipv6B, upper, payload.Length, 64, flowLabel: 0x12345);
        payload.CopyTo(packet, Ipv6Packet.HeaderLength);
        return packet;
    }

    private static List<byte[]> Split(byte[] payload, int size, uint id = Id)
    {
        var fragments = new List<byte[]>();
        for (int offset = 0; offset < payload.Length; offset += size)
        {
            int length = Math.Min(size, payload.Length - offset);
            fragments.Add(Fragment(payload, offset, length, more: offset + length < payload.Length, id));
        }
        return fragments;
    }

    private static ReassemblyOutcome Accept(Ipv6Reassembler reassembler, byte[] bytes, Instant now, out Span<byte> datagram)
    {
        Assert.Equal(Ipv6ParseError.None, Ipv6Packet.TryParse(bytes, out var packet));
        Assert.True(packet.TryFindUpperLayer(out _, out _, out var fragment));
        Assert.NotNull(fragment);
        return reassembler.Accept(packet, fragment.Value, now, out datagram);
    }

    private static ReassemblyOutcome Accept(Ipv6Reassembler reassembler, byte[] bytes, Instant now = default) =>
        Accept(reassembler, bytes, now, out _);

    /// <summary>A captured frame's IPv6 packet, copied out so that reassembly may work on it.</summary>
    private static byte[] Captured(byte[] frame) => frame.AsSpan(EthernetFrame.HeaderLength).ToArray();

    private static byte[] RandomPayload(int length, int seed)
    {
        byte[] payload = new byte[length];
        new Random(seed).NextBytes(payload);
        return payload;
    }

    private static void AssertReassembles(Ipv6Reassembler reassembler, IReadOnlyList<byte[]> fragments, byte[] expected)
    {
        for (int i = 0; i < fragments.Count - 1; i++)
        {
            Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[i], T0));
        }
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, fragments[^1], T0, out var datagram));
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(datagram));
        Assert.Equal(Ipv6ParseError.None, Ipv6Packet.TryParse(datagram, out var packet));
        Assert.True(packet.TryFindUpperLayer(out _, out _, out var fragment));
        Assert.Null(fragment);
        Assert.Equal(0, reassembler.PendingCount);
        Assert.Equal(Instant.Never, reassembler.NextExpiry);
    }

    [Fact]
    public void InOrder()
    {
        byte[] payload = RandomPayload(3000, 1);
        var reassembler = new Ipv6Reassembler(Limits);
        AssertReassembles(reassembler, Split(payload, 1448), Whole(payload));
        Assert.Equal(1, reassembler.Counters.Completed);
    }

    [Fact]
    public void ReverseOrder()
    {
        byte[] payload = RandomPayload(5001, 2);
        var fragments = Split(payload, 1000);
        fragments.Reverse();
        AssertReassembles(new Ipv6Reassembler(Limits), fragments, Whole(payload));
    }

    [Fact]
    public void RandomOrderAndSizes()
    {
        var random = new Random(3);
        var reassembler = new Ipv6Reassembler(Limits);
        for (int round = 0; round < 300; round++)
        {
            uint id = (uint)round * 0x01010101;
            byte[] payload = RandomPayload(random.Next(9, 20_000), round);
            var fragments = new List<byte[]>();
            for (int offset = 0; offset < payload.Length;)
            {
                int length = Math.Min(8 * random.Next(1, 400), payload.Length - offset);
                fragments.Add(Fragment(payload, offset, length, more: offset + length < payload.Length, id));
                offset += length;
            }
            if (fragments.Count < 2 || fragments.Count > Limits.MaxFragmentsPerDatagram)
            {
                continue;
            }
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(fragments));
            AssertReassembles(reassembler, fragments, Whole(payload));
        }
        Assert.True(reassembler.Counters.Completed > 200);
    }

    [Fact]
    public void CapturedFragmentedPingReassemblesToWhatPingSent()
    {
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Captured(Ipv6Captures.FragmentedPing6Request2)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Captured(Ipv6Captures.FragmentedPing6Request1)));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Captured(Ipv6Captures.FragmentedPing6Request3), T0, out var datagram));

        Assert.Equal(Ipv6ParseError.None, Ipv6Packet.TryParse(datagram, out var packet));
        Assert.Equal(3008, packet.PayloadLength);
        Assert.Equal(Ipv6Packet.HeaderLength + 3008, datagram.Length);
        Assert.Equal(IpProtocol.Icmpv6, packet.NextHeader);
        var first = Frames.Ipv6(Ipv6Captures.FragmentedPing6Request1);
        Assert.Equal((first.Source, first.Destination, first.FlowLabel, first.HopLimit), (packet.Source, packet.Destination, packet.FlowLabel, packet.HopLimit));

        // The echo request whole: a valid ICMPv6 checksum over all 3008 bytes (which covers the
        // addresses and length too), and the data as iputils ping wrote it.
        Assert.True(Icmpv6Message.TryParse(packet.Payload, packet.PseudoHeaderSum(IpProtocol.Icmpv6, 3008), out var icmp, out bool valid));
        Assert.True(valid);
        Assert.Equal(Icmpv6Type.EchoRequest, icmp.Type);
        for (int i = 16; i < icmp.Body.Length; i++)
        {
            Assert.Equal((byte)i, icmp.Body[i]);
        }
        byte[] request = icmp.Body.ToArray();

        // The other kernel's reply, reassembled the same way, echoes the same data.
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Captured(Ipv6Captures.FragmentedPing6Reply3)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Captured(Ipv6Captures.FragmentedPing6Reply1)));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Captured(Ipv6Captures.FragmentedPing6Reply2), T0, out var reply));
        Assert.Equal(Ipv6ParseError.None, Ipv6Packet.TryParse(reply, out var replyPacket));
        Assert.True(Icmpv6Message.TryParse(replyPacket.Payload, replyPacket.PseudoHeaderSum(IpProtocol.Icmpv6, replyPacket.PayloadLength), out var echo, out bool replyValid));
        Assert.True(replyValid);
        Assert.Equal(Icmpv6Type.EchoReply, echo.Type);
        Assert.Equal(request, echo.Body.ToArray());
    }

    [Fact]
    public void ExtensionHeadersBeforeTheFragmentHeaderAreNotKept()
    {
        byte[] payload = RandomPayload(2000, 4);
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 0, 1000, more: true, hopByHop: true)));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Fragment(payload, 1000, 1000, more: false, hopByHop: true), T0, out var datagram));
        Assert.Equal(Whole(payload), datagram.ToArray());
    }

    [Fact]
    public void TheFirstFragmentsNextHeaderWins()
    {
        // RFC 8200 §4.5: the Next Header of the fragment at offset 0 names the upper layer.
        byte[] payload = RandomPayload(16, 5);
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 8, 8, more: false, upper: IpProtocol.Tcp)));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Fragment(payload, 0, 8, more: true, upper: IpProtocol.Udp), T0, out var datagram));
        Assert.Equal(Whole(payload, IpProtocol.Udp), datagram.ToArray());
    }

    [Fact]
    public void AnAtomicFragmentIsAWholePacket()
    {
        // Offset 0 and no more fragments (RFC 6946): the packet itself, without the fragment header.
        byte[] payload = RandomPayload(100, 6);
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Fragment(payload, 0, payload.Length, more: false), T0, out var datagram));
        Assert.Equal(Whole(payload), datagram.ToArray());
        Assert.Equal(0, reassembler.PendingCount);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1448)]
    public void AnAtomicFragmentLeavesAPendingDatagramWithItsIdentificationAlone(int atomicLength)
    {
        // RFC 6946 §4: processed in isolation, even when fragments with the same source,
        // destination and identification are waiting (a forged one must not spoil them).
        byte[] payload = RandomPayload(3000, 7);
        byte[] atomic = RandomPayload(atomicLength, 8);
        var fragments = Split(payload, 1448);
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[0]));

        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Fragment(atomic, 0, atomic.Length, more: false), T0, out var alone));
        Assert.Equal(Whole(atomic), alone.ToArray());

        Assert.Equal(1, reassembler.PendingCount);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[1]));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, fragments[2], T0, out var datagram));
        Assert.Equal(Whole(payload), datagram.ToArray());
    }

    [Theory]
    // RFC 5722: any overlap drops the datagram.
    [InlineData(0, 16, false, 8, 16, false, nameof(ReassemblyCounters.DroppedOverlap))]
    [InlineData(8, 16, false, 0, 16, false, nameof(ReassemblyCounters.DroppedOverlap))]
    [InlineData(0, 32, false, 8, 8, false, nameof(ReassemblyCounters.DroppedOverlap))]
    [InlineData(8, 8, false, 0, 32, false, nameof(ReassemblyCounters.DroppedOverlap))]
    [InlineData(48, 52, true, 40, 16, false, nameof(ReassemblyCounters.DroppedOverlap))]
    // Only the last fragment may end off an 8-byte boundary (RFC 8200 §4.5).
    [InlineData(48, 52, true, 0, 44, false, nameof(ReassemblyCounters.DroppedMalformed))]
    // Two last fragments that disagree; a fragment beyond the end; a last one before what came.
    [InlineData(96, 4, true, 104, 20, true, nameof(ReassemblyCounters.DroppedMalformed))]
    [InlineData(96, 4, true, 200, 16, false, nameof(ReassemblyCounters.DroppedMalformed))]
    [InlineData(200, 16, false, 96, 4, true, nameof(ReassemblyCounters.DroppedMalformed))]
    // A payload past 65535 bytes: offset 65528 plus 16 (RFC 8200 §4.5 asks for a Parameter Problem; we drop).
    [InlineData(0, 1448, false, 65528, 16, true, nameof(ReassemblyCounters.DroppedTooLarge))]
    public void SecondFragmentDropsTheDatagram(int offset1, int length1, bool last1, int offset2, int length2, bool last2, string counter)
    {
        byte[] payload = RandomPayload(65528 + 16, 9);
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, offset1, length1, more: !last1)));
        Assert.Equal(ReassemblyOutcome.Dropped, Accept(reassembler, Fragment(payload, offset2, length2, more: !last2)));
        Assert.Equal(0, reassembler.PendingCount);
        var counters = reassembler.Counters;
        long dropped = counter switch
        {
            nameof(ReassemblyCounters.DroppedOverlap) => counters.DroppedOverlap,
            nameof(ReassemblyCounters.DroppedMalformed) => counters.DroppedMalformed,
            _ => counters.DroppedTooLarge,
        };
        Assert.Equal(1, dropped);
        Assert.Equal(1, counters.DroppedOverlap + counters.DroppedMalformed + counters.DroppedTooLarge);
    }

    [Fact]
    public void TheLargestPayloadReassembles()
    {
        byte[] payload = RandomPayload(65535, 10);
        var fragments = Split(payload, 1448);
        fragments.Reverse();
        AssertReassembles(new Ipv6Reassembler(Limits with { MaxFragmentsPerDatagram = 64 }), fragments, Whole(payload));
    }

    [Fact]
    public void ExactDuplicatesAreIgnored()
    {
        byte[] payload = RandomPayload(3000, 11);
        var fragments = Split(payload, 1000);
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[2]));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[2]));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[0]));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, fragments[1], T0, out var datagram));
        Assert.Equal(Whole(payload), datagram.ToArray());
        Assert.Equal(1, reassembler.Counters.DuplicatesIgnored);
    }

    [Fact]
    public void FragmentWrongInItselfStartsNothing()
    {
        byte[] payload = RandomPayload(100, 12);
        var reassembler = new Ipv6Reassembler(Limits with { MaxDatagrams = 1 });
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 0, 8, more: true, id: 1)));
        Assert.Equal(ReassemblyOutcome.Dropped, Accept(reassembler, Fragment(payload, 0, 44, more: true)));
        Assert.Equal(ReassemblyOutcome.Dropped, Accept(reassembler, Fragment(payload, 8, 0, more: true)));
        Assert.Equal(2, reassembler.Counters.DroppedMalformed);
        Assert.Equal(0, reassembler.Counters.DroppedTableFull);
        Assert.Equal(1, reassembler.PendingCount);
    }

    [Fact]
    public void TooManyFragmentsDropsTheDatagram()
    {
        byte[] payload = RandomPayload(1024, 13);
        var reassembler = new Ipv6Reassembler(Limits);
        for (int i = 0; i < Limits.MaxFragmentsPerDatagram; i++)
        {
            Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, i * 16, 8, more: true)));
        }
        Assert.Equal(ReassemblyOutcome.Dropped, Accept(reassembler, Fragment(payload, 1000, 8, more: true)));
        Assert.Equal(1, reassembler.Counters.DroppedTooManyFragments);
        Assert.Equal(0, reassembler.PendingCount);
    }

    [Fact]
    public void EndlessFirstFragmentsStayWithinTheTable()
    {
        var reassembler = new Ipv6Reassembler(Limits);
        byte[] payload = RandomPayload(1448, 14);
        byte[][] fragments = [.. Enumerable.Range(0, 1000).Select(i => Fragment(payload, 0, 1448, more: true, id: (uint)i))];
        var now = T0;
        int mostPending = 0;
        foreach (byte[] fragment in fragments)
        {
            Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragment, now));
            mostPending = Math.Max(mostPending, reassembler.PendingCount);
            now += TimeSpan.FromMilliseconds(1);
        }
        Assert.Equal(Limits.MaxDatagrams, mostPending);
        Assert.Equal(1000 - Limits.MaxDatagrams, reassembler.Counters.DroppedTableFull);
    }

    [Fact]
    public void SteadyStateAllocatesNothingPerFragment()
    {
        var reassembler = new Ipv6Reassembler(Limits);
        byte[] payload = RandomPayload(3000, 15);
        byte[][] packets = [.. Split(payload, 1448), Fragment(payload, 1448, 1448, more: true, id: 1)];
        var fragments = packets.Select(bytes =>
        {
            Ipv6Packet.TryParse(bytes, out var packet);
            packet.TryFindUpperLayer(out _, out _, out var header);
            return header!.Value;
        }).ToArray();

        void Run(int rounds)
        {
            for (int round = 0; round < rounds; round++)
            {
                for (int i = 0; i < packets.Length; i++)
                {
                    Ipv6Packet.TryParse(packets[i], out var packet);
                    reassembler.Accept(packet, fragments[i], T0, out _);
                }
            }
        }

        Run(100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated");
        Assert.Equal(10_100, reassembler.Counters.Completed);
    }

    [Fact]
    public void TimesOutByExplicitTime()
    {
        byte[] payload = RandomPayload(3000, 16);
        var fragments = Split(payload, 1448);
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(Instant.Never, reassembler.NextExpiry);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[0], T0));
        Assert.Equal(T0 + Limits.Timeout, reassembler.NextExpiry);
        // RFC 8200 §4.5: 60 seconds from the first fragment; later ones do not extend it.
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[1], T0 + TimeSpan.FromSeconds(50)));
        Assert.Equal(T0 + Limits.Timeout, reassembler.NextExpiry);

        reassembler.Expire(new Instant((T0 + Limits.Timeout).Nanoseconds - 1));
        Assert.Equal(1, reassembler.PendingCount);
        reassembler.Expire(T0 + Limits.Timeout);
        Assert.Equal(0, reassembler.PendingCount);
        Assert.Equal(1, reassembler.Counters.TimedOut);

        // The straggler starts a new datagram rather than completing the old one.
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[2], T0 + Limits.Timeout));
    }

    [Fact]
    public void FullTableEvictsTheOldest()
    {
        var limits = Limits with { MaxDatagrams = 2 };
        byte[] payload = RandomPayload(3000, 17);
        var reassembler = new Ipv6Reassembler(limits);
        for (uint id = 1; id <= 3; id++)
        {
            Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 0, 1448, more: true, id), T0 + TimeSpan.FromSeconds(id)));
        }
        Assert.Equal(1, reassembler.Counters.DroppedTableFull);
        Assert.Equal(T0 + TimeSpan.FromSeconds(2) + limits.Timeout, reassembler.NextExpiry);
        var now = T0 + TimeSpan.FromSeconds(4);
        foreach (uint id in new uint[] { 2, 3 })
        {
            Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 1448, 1448, more: true, id), now));
            Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Fragment(payload, 2896, 104, more: false, id), now, out var datagram));
            Assert.Equal(Whole(payload), datagram.ToArray());
        }
    }

    [Fact]
    public void KeyIsSourceDestinationAndIdentification()
    {
        // Not the upper-layer protocol: IPv6 keys fragments by addresses and identification only.
        byte[] payload = RandomPayload(16, 18);
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 0, 8, more: true)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 8, 8, more: false, id: Id + 1)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 8, 8, more: false, source: Ipv6Address.Parse("2001:2:0:5::c"))));
        Assert.Equal(3, reassembler.PendingCount);
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Fragment(payload, 8, 8, more: false, upper: IpProtocol.Tcp), T0, out var datagram));
        Assert.Equal(IpProtocol.Udp, new Ipv6Packet(datagram).NextHeader);
        Assert.Equal(2, reassembler.PendingCount);
    }

    [Fact]
    public void TheReassembledPayloadLengthIsWrittenBack()
    {
        byte[] payload = RandomPayload(1500, 19);
        var reassembler = new Ipv6Reassembler(Limits);
        Accept(reassembler, Fragment(payload, 0, 1000, more: true));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Fragment(payload, 1000, 500, more: false), T0, out var datagram));
        Assert.Equal(1500, BinaryPrimitives.ReadUInt16BigEndian(datagram[4..]));
    }
}
