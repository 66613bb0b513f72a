using System.Buffers.Binary;
using Usernet.Stack;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

/// <summary>IPv6 reassembly: the scenarios of <see cref="ReassemblyTests"/>, and what only IPv6 has.</summary>
public sealed class Ipv6ReassemblerTests : ReassemblyTests
{
    private sealed class Subject(ReassemblyLimits limits) : ISubject
    {
        private readonly Ipv6Reassembler _reassembler = new(limits);

        public ReassemblyCounters Counters => _reassembler.Counters;

        public int PendingCount => _reassembler.PendingCount;

        public Instant NextExpiry => _reassembler.NextExpiry;

        public ReassemblyOutcome Accept(byte[] packet, Instant now)
        {
            Ipv6Packet.TryParse(packet, out var parsed);
            parsed.TryFindUpperLayer(out _, out _, out var fragment);
            return _reassembler.Accept(parsed, fragment!.Value, now, out _);
        }

        public ReassemblyOutcome Accept(byte[] packet, Instant now, out byte[] datagram)
        {
            var outcome = Ipv6ReassemblerTests.Accept(_reassembler, packet, now, out var whole);
            datagram = whole.ToArray();
            return outcome;
        }

        public void Expire(Instant now) => _reassembler.Expire(now);
    }

    private protected override ISubject Create(ReassemblyLimits limits) => new Subject(limits);

    private protected override int MaxPayload => 65535;

    /// <summary>IPv6 identifications are 32 bits: the tests' 16-bit ones get high bits too.</summary>
    private static uint Id32(ushort id) => 0x8765_0000u | id;

    private protected override byte[] Fragment(byte[] payload, int offset, int length, bool more, ushort id = Id) =>
        FragmentOf(payload, offset, length, more, Id32(id));

    private protected override byte[] Whole(byte[] payload, ushort id = Id) => Whole(payload, IpProtocol.Udp);

    private protected override void AssertNotAFragment(byte[] datagram)
    {
        Assert.Equal(Ipv6ParseError.None, Ipv6Packet.TryParse(datagram, out var packet));
        Assert.True(packet.TryFindUpperLayer(out _, out _, out var fragment));
        Assert.Null(fragment);
    }

    /// <summary>
    /// One fragment of <paramref name="payload"/>, bytes [offset, offset + length), behind a fragment
    /// header whose Next Header is <paramref name="upper"/>, and a hop-by-hop header first when asked.
    /// </summary>
    private static byte[] FragmentOf(
        byte[] payload, int offset, int length, bool more, uint id = 0x8765_1234, byte upper = IpProtocol.Udp,
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

    /// <summary>The packet that the fragments came from: the first fragment's header, no fragment header.</summary>
    private static byte[] Whole(byte[] payload, byte upper)
    {
        byte[] packet = new byte[Ipv6Packet.HeaderLength + payload.Length];
        Ipv6Packet.WriteHeader(packet, Frames.Ipv6A, Frames.Ipv6B, upper, payload.Length, 64, flowLabel: 0x12345);
        payload.CopyTo(packet, Ipv6Packet.HeaderLength);
        return packet;
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

    private static List<byte[]> SplitOf(byte[] payload)
    {
        var fragments = new List<byte[]>();
        for (int offset = 0; offset < payload.Length; offset += Chunk)
        {
            int length = Math.Min(Chunk, payload.Length - offset);
            fragments.Add(FragmentOf(payload, offset, length, more: offset + length < payload.Length));
        }
        return fragments;
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
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, FragmentOf(payload, 0, 1000, more: true, hopByHop: true)));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, FragmentOf(payload, 1000, 1000, more: false, hopByHop: true), T0, out var datagram));
        Assert.Equal(Whole(payload, IpProtocol.Udp), datagram.ToArray());
    }

    [Fact]
    public void TheFirstFragmentsNextHeaderWins()
    {
        // RFC 8200 §4.5: the Next Header of the fragment at offset 0 names the upper layer.
        byte[] payload = RandomPayload(16, 5);
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, FragmentOf(payload, 8, 8, more: false, upper: IpProtocol.Tcp)));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, FragmentOf(payload, 0, 8, more: true, upper: IpProtocol.Udp), T0, out var datagram));
        Assert.Equal(Whole(payload, IpProtocol.Udp), datagram.ToArray());
    }

    [Fact]
    public void AnAtomicFragmentIsAWholePacket()
    {
        // Offset 0 and no more fragments (RFC 6946): the packet itself, without the fragment header.
        byte[] payload = RandomPayload(100, 6);
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, FragmentOf(payload, 0, payload.Length, more: false), T0, out var datagram));
        Assert.Equal(Whole(payload, IpProtocol.Udp), datagram.ToArray());
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
        var fragments = SplitOf(payload);
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[0]));

        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, FragmentOf(atomic, 0, atomic.Length, more: false), T0, out var alone));
        Assert.Equal(Whole(atomic, IpProtocol.Udp), alone.ToArray());

        Assert.Equal(1, reassembler.PendingCount);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, fragments[1]));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, fragments[2], T0, out var datagram));
        Assert.Equal(Whole(payload, IpProtocol.Udp), datagram.ToArray());
    }

    [Fact]
    public void KeyIsSourceDestinationAndIdentification()
    {
        // Not the upper-layer protocol: IPv6 keys fragments by addresses and identification only.
        byte[] payload = RandomPayload(16, 18);
        var reassembler = new Ipv6Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, FragmentOf(payload, 0, 8, more: true)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, FragmentOf(payload, 8, 8, more: false, id: 0x8765_1235)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, FragmentOf(payload, 8, 8, more: false, source: Ipv6Address.Parse("2001:2:0:5::c"))));
        Assert.Equal(3, reassembler.PendingCount);
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, FragmentOf(payload, 8, 8, more: false, upper: IpProtocol.Tcp), T0, out var datagram));
        Assert.Equal(IpProtocol.Udp, new Ipv6Packet(datagram).NextHeader);
        Assert.Equal(2, reassembler.PendingCount);
    }

    [Fact]
    public void TheReassembledPayloadLengthIsWrittenBack()
    {
        byte[] payload = RandomPayload(1500, 19);
        var reassembler = new Ipv6Reassembler(Limits);
        Accept(reassembler, FragmentOf(payload, 0, 1000, more: true));
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, FragmentOf(payload, 1000, 500, more: false), T0, out var datagram));
        Assert.Equal(1500, BinaryPrimitives.ReadUInt16BigEndian(datagram[4..]));
    }
}
