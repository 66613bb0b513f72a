using System.Buffers.Binary;
using Usernet.Stack;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

/// <summary>IPv4 reassembly: the scenarios of <see cref="ReassemblyTests"/>, and what only IPv4 has.</summary>
public sealed class Ipv4ReassemblerTests : ReassemblyTests
{
    private sealed class Subject(ReassemblyLimits limits) : ISubject
    {
        public Ipv4Reassembler Reassembler { get; } = new(limits);

        public ReassemblyCounters Counters => Reassembler.Counters;

        public int PendingCount => Reassembler.PendingCount;

        public Instant NextExpiry => Reassembler.NextExpiry;

        public ReassemblyOutcome Accept(byte[] packet, Instant now)
        {
            Ipv4Packet.TryParse(packet, out var parsed);
            return Reassembler.Accept(parsed, now, out _);
        }

        public ReassemblyOutcome Accept(byte[] packet, Instant now, out byte[] datagram)
        {
            Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(packet, out var parsed));
            var outcome = Reassembler.Accept(parsed, now, out var whole);
            datagram = whole.ToArray();
            return outcome;
        }

        public void Expire(Instant now) => Reassembler.Expire(now);
    }

    private protected override ISubject Create(ReassemblyLimits limits) => new Subject(limits);

    private protected override int MaxPayload => Ipv4Packet.MaxPacketLength - Ipv4Packet.MinHeaderLength;

    private protected override byte[] Fragment(byte[] payload, int offset, int length, bool more, ushort id = Id) =>
        FragmentOf(payload, offset, length, more, id);

    private protected override byte[] Whole(byte[] payload, ushort id = Id) => Whole(payload, id, IpProtocol.Udp);

    private protected override void AssertNotAFragment(byte[] datagram)
    {
        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(datagram, out var packet));
        Assert.False(packet.IsFragment);
    }

    /// <summary>A fragment with the protocol and source given, for the key's sake.</summary>
    private static byte[] FragmentOf(
        byte[] payload, int offset, int length, bool more, ushort id = Id, byte protocol = IpProtocol.Udp, Ipv4Address? source = null)
    {
        byte[] buffer = new byte[Ipv4Packet.MinHeaderLength + length];
        Ipv4Packet.WriteHeader(buffer, source ?? Frames.AddressA, Frames.AddressB, protocol, length, id, dontFragment: false);
        var packet = new Ipv4Packet(buffer) { MoreFragments = more, FragmentOffset = offset };
        packet.FillChecksum();
        payload.AsSpan(offset, length).CopyTo(buffer.AsSpan(Ipv4Packet.MinHeaderLength));
        return buffer;
    }

    private static byte[] Whole(byte[] payload, ushort id, byte protocol)
    {
        byte[] buffer = new byte[Ipv4Packet.MinHeaderLength + payload.Length];
        Ipv4Packet.WriteHeader(buffer, Frames.AddressA, Frames.AddressB, protocol, payload.Length, id, dontFragment: false);
        payload.CopyTo(buffer, Ipv4Packet.MinHeaderLength);
        return buffer;
    }

    private static ReassemblyOutcome Accept(Ipv4Reassembler reassembler, byte[] bytes, Instant now, out Span<byte> datagram)
    {
        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(bytes, out var packet));
        return reassembler.Accept(packet, now, out datagram);
    }

    private static ReassemblyOutcome Accept(Ipv4Reassembler reassembler, byte[] bytes, Instant now = default) =>
        Accept(reassembler, bytes, now, out _);

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
    public void KeyIsSourceDestinationProtocolAndIdentification()
    {
        byte[] payload = RandomPayload(16, 20);
        var reassembler = new Ipv4Reassembler(Limits);
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 0, 8, more: true)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, FragmentOf(payload, 8, 8, more: false, protocol: IpProtocol.Icmp)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, Fragment(payload, 8, 8, more: false, id: 0x1235)));
        Assert.Equal(ReassemblyOutcome.Pending, Accept(reassembler, FragmentOf(payload, 8, 8, more: false, source: Frames.AddressB)));
        Assert.Equal(4, reassembler.PendingCount);
        Assert.Equal(ReassemblyOutcome.Complete, Accept(reassembler, Fragment(payload, 8, 8, more: false), default, out _));
        Assert.Equal(3, reassembler.PendingCount);
    }
}
