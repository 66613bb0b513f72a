using System.Buffers.Binary;
using Usernet.Stack;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

public sealed class Ipv4ReassemblerTests
{
    private static readonly ReassemblyLimits Limits = new(MaxDatagrams: 8, MaxFragmentsPerDatagram: 16, Timeout: TimeSpan.FromSeconds(30));
    private static readonly Instant T0 = Instant.FromMilliseconds(1_000);

    /// <summary>One fragment of <paramref name="payload"/>: bytes [offset, offset + length).</summary>
    private static byte[] Fragment(
        byte[] payload, int offset, int length, bool more, ushort id = 0x1234,
        byte protocol = IpProtocol.Udp, Ipv4Address? source = null)
    {
        byte[] buffer = new byte[Ipv4Packet.MinHeaderLength + length];
        Ipv4Packet.WriteHeader(buffer, source ?? Frames.AddressA, Frames.AddressB, protocol, length, id, dontFragment: false);
        var packet = new Ipv4Packet(buffer) { MoreFragments = more, FragmentOffset = offset };
        packet.FillChecksum();
        payload.AsSpan(offset, length).CopyTo(buffer.AsSpan(Ipv4Packet.MinHeaderLength));
        return buffer;
    }

    /// <summary>The packet that the fragments of <see cref="Fragment"/> came from.</summary>
    private static byte[] Whole(byte[] payload, ushort id = 0x1234, byte protocol = IpProtocol.Udp)
    {
        byte[] buffer = new byte[Ipv4Packet.MinHeaderLength + payload.Length];
        Ipv4Packet.WriteHeader(buffer, Frames.AddressA, Frames.AddressB, protocol, payload.Length, id, dontFragment: false);
        payload.CopyTo(buffer, Ipv4Packet.MinHeaderLength);
        return buffer;
    }

    /// <summary>Cuts <paramref name="payload"/> into fragments of <paramref name="size"/> bytes (a multiple of 8).</summary>
    private static List<byte[]> Split(byte[] payload, int size, ushort id = 0x1234)
    {
        var fragments = new List<byte[]>();
        for (int offset = 0; offset < payload.Length; offset += size)
        {
            int length = Math.Min(size, payload.Length - offset);
            fragments.Add(Fragment(payload, offset, length, more: offset + length < payload.Length, id));
        }
        return fragments;
    }

    private static ReassemblyOutcome Accept(Ipv4Reassembler reassembler, byte[] bytes, Instant now, out Span<byte> datagram)
    {
        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(bytes, out var packet));
        return reassembler.Accept(packet, now, out datagram);
    }

    private static ReassemblyOutcome Accept(Ipv4Reassembler reassembler, byte[] bytes, Instant now = default) =>
        Accept(reassembler, bytes, now, out _);

    private static byte[] RandomPayload(int length, int seed)
    {
        byte[] payload = new byte[length];
        new Random(seed).NextBytes(payload);
        return payload;
    }

    /// <summary>Feeds all fragments; only the last may complete, and it must give <paramref name="expected"/>.</summary>
    private static void AssertReassembles(Ipv4Reassembler reassembler, IReadOnlyList<byte[]> fragments, byte[] expected)
    {
        for (int i = 0; i < fragments.Count - 1; i++)
        {
            Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[i], T0));
        }
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, fragments[^1], T0, out var datagram));
        Assert.Equal(expected, datagram.ToArray());
        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(datagram, out var packet));
        Assert.False(packet.IsFragment);
        Assert.Equal(0, reassembler.PendingCount);
        Assert.Equal(Instant.Never, reassembler.NextExpiry);
    }

    [Fact]
    public void InOrder()
    {
        byte[] payload = RandomPayload(3000, 1);
        var reassembler = new Ipv4Reassembler(Limits);
        AssertReassembles(reassembler, Split(payload, 1480), Whole(payload));
        Assert.Equal(1, reassembler.Counters.Completed);
    }

    [Fact]
    public void ReverseOrder()
    {
        byte[] payload = RandomPayload(5001, 2);
        var fragments = Split(payload, 1000);
        fragments.Reverse();
        AssertReassembles(new Ipv4Reassembler(Limits), fragments, Whole(payload));
    }

    [Fact]
    public void RandomOrderAndSizes()
    {
        var random = new Random(3);
        var reassembler = new Ipv4Reassembler(Limits);
        for (int round = 0; round < 300; round++)
        {
            ushort id = (ushort)round;
            byte[] payload = RandomPayload(random.Next(9, 20_000), round);
            var fragments = new List<byte[]>();
            for (int offset = 0; offset < payload.Length;)
            {
                int length = Math.Min(8 * random.Next(1, 400), payload.Length - offset);
                fragments.Add(Fragment(payload, offset, length, more: offset + length < payload.Length, id));
                offset += length;
            }
            // One piece is a whole packet, not a fragment.
            if (fragments.Count < 2 || fragments.Count > Limits.MaxFragmentsPerDatagram)
            {
                continue;
            }
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(fragments));
            AssertReassembles(reassembler, fragments, Whole(payload, id));
        }
        Assert.True(reassembler.Counters.Completed > 200);
    }

    [Fact]
    public void SingleFragmentWithOffsetZeroAndNoMoreIsNotAFragment()
    {
        byte[] packet = Whole(RandomPayload(100, 4));
        var reassembler = new Ipv4Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Dropped, Accept(reassembler, packet));
        Assert.Equal(1, reassembler.Counters.DroppedMalformed);
    }

    [Fact]
    public void CapturedFragmentedPingReassemblesToWhatPingSent()
    {
        var reassembler = new Ipv4Reassembler(Limits);
        byte[] first = Captures.FragmentedPingRequest1;
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Frames.Ipv4(first), T0, out _));
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Frames.Ipv4(Captures.FragmentedPingRequest2), T0, out _));
        Assert.Equal(ReassemblyOutcome.Complete, reassembler.Accept(Frames.Ipv4(Captures.FragmentedPingRequest3), T0, out var datagram));

        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(datagram, out var packet));
        Assert.Equal(3028, packet.TotalLength);
        Assert.Equal(3028, datagram.Length);
        Assert.False(packet.MoreFragments);
        Assert.Equal(0, packet.FragmentOffset);
        Assert.Equal(Frames.Ipv4(first).Identification, packet.Identification);

        // The unfragmented echo request: a valid ICMP checksum over all 3008 bytes, and the
        // data exactly as iputils ping wrote it, a timestamp then bytes counting up.
        Assert.True(IcmpV4Message.TryParse(packet.Payload, out var icmp, out bool checksumValid));
        Assert.True(checksumValid);
        Assert.Equal(IcmpV4Type.EchoRequest, icmp.Type);
        Assert.Equal(3000, icmp.Payload.Length);
        for (int i = 16; i < icmp.Payload.Length; i++)
        {
            Assert.Equal((byte)i, icmp.Payload[i]);
        }

        // The kernel at the other end reassembled the same request and echoed its data.
        byte[] request = icmp.Payload.ToArray();
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Frames.Ipv4(Captures.FragmentedPingReply3), T0, out _));
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Frames.Ipv4(Captures.FragmentedPingReply1), T0, out _));
        Assert.Equal(ReassemblyOutcome.Complete, reassembler.Accept(Frames.Ipv4(Captures.FragmentedPingReply2), T0, out var reply));
        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(reply, out var replyPacket));
        Assert.True(IcmpV4Message.TryParse(replyPacket.Payload, out var echo, out bool replyValid));
        Assert.True(replyValid);
        Assert.Equal(IcmpV4Type.EchoReply, echo.Type);
        Assert.Equal(request, echo.Payload.ToArray());
    }

    [Fact]
    public void CapturedFragmentsKeepTheFirstFragmentsOptions()
    {
        // The last fragment carries NOPs where the first had record route (RFC 791 §3.1: the
        // option is not copied); the datagram gets the first fragment's header.
        var reassembler = new Ipv4Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, reassembler.Accept(Frames.Ipv4(Captures.RecordRouteFragmentedRequest2), T0, out _));
        Assert.Equal(ReassemblyOutcome.Complete, reassembler.Accept(Frames.Ipv4(Captures.RecordRouteFragmentedRequest1), T0, out var datagram));

        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(datagram, out var packet));
        var first = Frames.Ipv4(Captures.RecordRouteFragmentedRequest1);
        Assert.Equal(60, packet.HeaderLength);
        Assert.Equal(60 + 2008, packet.TotalLength);
        Assert.Equal(first.Header[20..].ToArray(), packet.Header[20..].ToArray());
        Assert.Equal(7, packet.Header[21]);
        Assert.True(IcmpV4Message.TryParse(packet.Payload, out _, out bool checksumValid));
        Assert.True(checksumValid);

        // Everything but length, flags and checksum is the first fragment's header.
        byte[] expected = first.Header.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(2), 2068);
        BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(6), 0);
        BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(10), InternetChecksum.Compute(expected));
        Assert.Equal(expected, packet.Header.ToArray());
    }

    [Theory]
    // RFC 5722 and Linux since 2018: any overlap drops the datagram.
    [InlineData(0, 16, false, 8, 16, false, nameof(ReassemblyCounters.DroppedOverlap))]  // starts inside the first
    [InlineData(8, 16, false, 0, 16, false, nameof(ReassemblyCounters.DroppedOverlap))]  // the first starts inside it
    [InlineData(0, 32, false, 8, 8, false, nameof(ReassemblyCounters.DroppedOverlap))]   // wholly inside
    [InlineData(8, 8, false, 0, 32, false, nameof(ReassemblyCounters.DroppedOverlap))]   // wholly around
    [InlineData(0, 16, false, 0, 24, false, nameof(ReassemblyCounters.DroppedOverlap))]  // same start, longer
    [InlineData(48, 52, true, 40, 16, false, nameof(ReassemblyCounters.DroppedOverlap))] // into the last fragment
    // Only the last fragment may end off an 8-byte boundary.
    [InlineData(48, 52, true, 0, 44, false, nameof(ReassemblyCounters.DroppedMalformed))]
    // Two last fragments that disagree on the length.
    [InlineData(96, 4, true, 104, 20, true, nameof(ReassemblyCounters.DroppedMalformed))]
    // A fragment beyond the end, and a last fragment that ends before what was received.
    [InlineData(96, 4, true, 200, 16, false, nameof(ReassemblyCounters.DroppedMalformed))]
    [InlineData(200, 16, false, 96, 4, true, nameof(ReassemblyCounters.DroppedMalformed))]
    // Offset 65528 plus 16 bytes plus the header is more than 65535 (the ping of death).
    [InlineData(0, 1480, false, 65528, 16, true, nameof(ReassemblyCounters.DroppedTooLarge))]
    public void SecondFragmentDropsTheDatagram(
        int offset1, int length1, bool last1, int offset2, int length2, bool last2, string counter)
    {
        byte[] payload = RandomPayload(65528 + 16, 5);
        var reassembler = new Ipv4Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, offset1, length1, more: !last1)));
        Assert.Equal(ReassemblyOutcome.Dropped, Accept(reassembler, Fragment(payload, offset2, length2, more: !last2)));
        Assert.Equal(0, reassembler.PendingCount);
        Assert.Equal(Instant.Never, reassembler.NextExpiry);
        var counters = reassembler.Counters;
        long dropped = counter switch
        {
            nameof(ReassemblyCounters.DroppedOverlap) => counters.DroppedOverlap,
            nameof(ReassemblyCounters.DroppedMalformed) => counters.DroppedMalformed,
            _ => counters.DroppedTooLarge,
        };
        Assert.Equal(1, dropped);
        Assert.Equal(1, counters.DroppedOverlap + counters.DroppedMalformed + counters.DroppedTooLarge);

        // The first fragment went with the datagram: sent again, it starts a new one.
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, offset1, length1, more: !last1)));
    }

    [Fact]
    public void FragmentWrongInItselfStartsNothing()
    {
        // Refused before it takes a slot, so it cannot evict a datagram either.
        byte[] payload = RandomPayload(100, 12);
        var reassembler = new Ipv4Reassembler(Limits with { MaxDatagrams = 1 });
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 0, 8, more: true, id: 1)));
        Assert.Equal(ReassemblyOutcome.Dropped, Accept(reassembler, Fragment(payload, 0, 44, more: true)));
        Assert.Equal(ReassemblyOutcome.Dropped, Accept(reassembler, Fragment(payload, 8, 0, more: true)));
        Assert.Equal(2, reassembler.Counters.DroppedMalformed);
        Assert.Equal(0, reassembler.Counters.DroppedTableFull);
        Assert.Equal(1, reassembler.PendingCount);
    }

    [Fact]
    public void ExactDuplicatesAreIgnored()
    {
        byte[] payload = RandomPayload(3000, 7);
        var fragments = Split(payload, 1000);
        var reassembler = new Ipv4Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[0]));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[0]));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[2]));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[2]));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, fragments[1], default, out var datagram));
        Assert.Equal(Whole(payload), datagram.ToArray());
        Assert.Equal(2, reassembler.Counters.DuplicatesIgnored);
        Assert.Equal(0, reassembler.Counters.DroppedOverlap);

        // A duplicate after completion belongs to no datagram: it starts a new one, which times out.
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[1]));
        Assert.Equal(1, reassembler.PendingCount);
    }

    [Fact]
    public void EndlessFragmentsStayWithinTheTable()
    {
        // A guest that sends first fragments with ever new identifications and never the rest:
        // the table stays full, and evicted datagrams give their arrays back to the pool.
        var reassembler = new Ipv4Reassembler(Limits);
        byte[] payload = RandomPayload(1480, 8);
        byte[][] fragments = [.. Enumerable.Range(0, 1000).Select(i => Fragment(payload, 0, 1480, more: true, id: (ushort)i))];
        var now = T0;
        long allocatedBefore = 0;
        int pending = 0;
        int mostPending = 0;
        for (int round = 0; round < 20; round++)
        {
            if (round == 1)
            {
                // Asserts allocate, so the loop only counts.
                allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            }
            foreach (byte[] fragment in fragments)
            {
                Ipv4Packet.TryParse(fragment, out var packet);
                pending += reassembler.Accept(packet, now, out _) == ReassemblyOutcome.Pending ? 1 : 0;
                mostPending = Math.Max(mostPending, reassembler.PendingCount);
                now += TimeSpan.FromMilliseconds(1);
            }
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.Equal(20_000, pending);
        Assert.Equal(Limits.MaxDatagrams, mostPending);
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated");
        Assert.Equal(Limits.MaxDatagrams, reassembler.PendingCount);
        Assert.Equal(20_000 - Limits.MaxDatagrams, reassembler.Counters.DroppedTableFull);
        Assert.Equal(0, reassembler.Counters.TimedOut);
    }

    [Fact]
    public void SteadyStateAllocatesNothingPerFragment()
    {
        // Slots, buffers and the dictionary are made once; payload arrays come from the pool.
        var reassembler = new Ipv4Reassembler(Limits);
        byte[] payload = RandomPayload(3000, 9);
        var fragments = Split(payload, 1480);
        // One datagram that never completes: after the first round its fragment is a duplicate.
        var incomplete = Fragment(payload, 1480, 1480, more: true, id: 1);
        byte[][] packets = [.. fragments, incomplete];

        void Run(int rounds)
        {
            for (int round = 0; round < rounds; round++)
            {
                foreach (byte[] bytes in packets)
                {
                    Ipv4Packet.TryParse(bytes, out var packet);
                    reassembler.Accept(packet, T0, out _);
                }
            }
        }

        Run(100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // 40,000 fragments; allow for the pool refilling itself once or twice after a trim.
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated");
        Assert.Equal(10_100, reassembler.Counters.Completed);
    }

    [Fact]
    public void TooLargeOnceTheHeaderWithOptionsArrives()
    {
        // Payload up to 65512 fits behind a 20-byte header, not behind the first fragment's 60.
        byte[] payload = new byte[65512];
        var reassembler = new Ipv4Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 65504, 8, more: false)));

        byte[] first = new byte[60 + 1480];
        Ipv4Packet.WriteHeader(first, Frames.AddressA, Frames.AddressB, IpProtocol.Udp, 1480, 0x1234, dontFragment: false);
        first[0] = 0x4F;
        first.AsSpan(20, 40).Fill(1); // NOPs
        var packet = new Ipv4Packet(first) { TotalLength = first.Length, MoreFragments = true };
        packet.FillChecksum();
        Assert.Equal(ReassemblyOutcome.Dropped, Accept(reassembler, first));
        Assert.Equal(1, reassembler.Counters.DroppedTooLarge);
    }

    [Fact]
    public void LargestDatagramReassembles()
    {
        byte[] payload = RandomPayload(Ipv4Packet.MaxPacketLength - 20, 10);
        var reassembler = new Ipv4Reassembler(Limits with { MaxFragmentsPerDatagram = 64 });
        var fragments = Split(payload, 1480);
        fragments.Reverse();
        AssertReassembles(reassembler, fragments, Whole(payload));
    }

    [Fact]
    public void TooManyFragmentsDropsTheDatagram()
    {
        byte[] payload = RandomPayload(1024, 11);
        var reassembler = new Ipv4Reassembler(Limits);
        for (int i = 0; i < Limits.MaxFragmentsPerDatagram; i++)
        {
            // Every other 8-byte piece, so that none completes.
            Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, i * 16, 8, more: true)));
        }
        Assert.Equal(ReassemblyOutcome.Dropped, Accept(reassembler, Fragment(payload, 1000, 8, more: true)));
        Assert.Equal(1, reassembler.Counters.DroppedTooManyFragments);
        Assert.Equal(0, reassembler.PendingCount);
    }

    [Fact]
    public void TimesOutByExplicitTime()
    {
        byte[] payload = RandomPayload(3000, 16);
        var fragments = Split(payload, 1480);
        var reassembler = new Ipv4Reassembler(Limits);
        Assert.Equal(Instant.Never, reassembler.NextExpiry);

        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[0], T0));
        Assert.Equal(T0 + Limits.Timeout, reassembler.NextExpiry);
        // Later fragments do not extend the time (RFC 791 §3.2 sets the timer once per datagram).
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[1], T0 + TimeSpan.FromSeconds(20)));
        Assert.Equal(T0 + Limits.Timeout, reassembler.NextExpiry);

        reassembler.Expire(new Instant((T0 + Limits.Timeout).Nanoseconds - 1));
        Assert.Equal(1, reassembler.PendingCount);
        reassembler.Expire(T0 + Limits.Timeout);
        Assert.Equal(0, reassembler.PendingCount);
        Assert.Equal(1, reassembler.Counters.TimedOut);
        Assert.Equal(Instant.Never, reassembler.NextExpiry);

        // The straggler starts a new datagram rather than completing the old one.
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[2], T0 + Limits.Timeout));
    }

    [Fact]
    public void AcceptExpiresFirst()
    {
        byte[] payload = RandomPayload(3000, 17);
        var fragments = Split(payload, 1480);
        var reassembler = new Ipv4Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[0], T0));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[1], T0));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[2], T0 + TimeSpan.FromMinutes(1)));
        Assert.Equal(1, reassembler.Counters.TimedOut);
        Assert.Equal(0, reassembler.Counters.Completed);
    }

    [Fact]
    public void NextExpiryFollowsTheOldest()
    {
        byte[] payload = RandomPayload(3000, 18);
        var reassembler = new Ipv4Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 0, 1480, more: true, id: 1), T0));
        var later = T0 + TimeSpan.FromSeconds(5);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 0, 1480, more: true, id: 2), later));
        Assert.Equal(T0 + Limits.Timeout, reassembler.NextExpiry);

        // Completing the oldest leaves the next one's deadline.
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 1480, 1480, more: true, id: 1), later));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Fragment(payload, 2960, 40, more: false, id: 1), later, out _));
        Assert.Equal(later + Limits.Timeout, reassembler.NextExpiry);
        Assert.Equal(1, reassembler.PendingCount);
    }

    [Fact]
    public void FullTableEvictsTheOldest()
    {
        var limits = Limits with { MaxDatagrams = 2 };
        byte[] payload = RandomPayload(3000, 19);
        var reassembler = new Ipv4Reassembler(limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 0, 1480, more: true, id: 1), T0));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 0, 1480, more: true, id: 2), T0 + TimeSpan.FromSeconds(1)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 0, 1480, more: true, id: 3), T0 + TimeSpan.FromSeconds(2)));
        Assert.Equal(1, reassembler.Counters.DroppedTableFull);
        Assert.Equal(2, reassembler.PendingCount);
        Assert.Equal(T0 + TimeSpan.FromSeconds(1) + limits.Timeout, reassembler.NextExpiry);

        // 2 and 3 survive and complete; 1 lost its first fragment and cannot.
        var now = T0 + TimeSpan.FromSeconds(3);
        foreach (ushort id in new ushort[] { 2, 3 })
        {
            Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 1480, 1480, more: true, id), now));
            Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Fragment(payload, 2960, 40, more: false, id), now, out var datagram));
            Assert.Equal(Whole(payload, id), datagram.ToArray());
        }
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 1480, 1480, more: true, id: 1), now));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 2960, 40, more: false, id: 1), now));
    }

    [Fact]
    public void KeyIsSourceDestinationProtocolAndIdentification()
    {
        byte[] payload = RandomPayload(16, 20);
        var reassembler = new Ipv4Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 0, 8, more: true)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 8, 8, more: false, protocol: IpProtocol.Icmp)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 8, 8, more: false, id: 0x1235)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 8, 8, more: false, source: Frames.AddressB)));
        Assert.Equal(4, reassembler.PendingCount);
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Fragment(payload, 8, 8, more: false), default, out _));
        Assert.Equal(3, reassembler.PendingCount);
    }

    [Fact]
    public void RejectsLimitsThatAllowNothing()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ipv4Reassembler(Limits with { MaxDatagrams = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ipv4Reassembler(Limits with { MaxFragmentsPerDatagram = 0 }));
    }
}
