using System.Buffers.Binary;
using System.Text.Json;
using Usernet.Control;
using Usernet.Link;
using Usernet.Platform;
using Usernet.Stack;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Link;

public sealed partial class VirtualSwitchTests : IDisposable
{
    private static readonly MacAddress MacA = new(0x02_00_00_00_00_0A);
    private static readonly MacAddress MacB = new(0x02_00_00_00_00_0B);
    private static readonly MacAddress MacC = new(0x02_00_00_00_00_0C);
    private static readonly MacAddress Unknown = new(0x02_00_00_00_00_99);

    private readonly EventLoop _loop = new();
    private readonly VirtualSwitch _switch;
    private readonly RecordingSwitchPort _stack = new(TestFrames.StackMac);
    private readonly RecordingLink _a = new("a");
    private readonly RecordingLink _b = new("b");
    private readonly RecordingLink _c = new("c");

    public VirtualSwitchTests()
    {
        _switch = new VirtualSwitch(_loop);
        _switch.AttachStack(_stack);
        _switch.Attach(_a);
        _switch.Attach(_b);
        _switch.Attach(_c);
    }

    public void Dispose() => _loop.Dispose();

    private static byte[] Frame(MacAddress source, MacAddress destination) =>
        TestFrames.Ethernet(source, destination, EtherType.Ipv4, new byte[46]);

    private void From(RecordingLink link, MacAddress source, MacAddress destination) =>
        _switch.OnFrame(link, Frame(source, destination), default);

    private void ClearSent()
    {
        _a.Sent.Clear();
        _b.Sent.Clear();
        _c.Sent.Clear();
    }

    [Fact]
    public void AFrameToAnUnknownMacIsFloodedToTheOtherLinks()
    {
        From(_a, MacA, Unknown);
        Assert.Empty(_a.Sent);
        Assert.Single(_b.Sent);
        Assert.Single(_c.Sent);
        Assert.Empty(_stack.Received);
        Assert.Equal(1, _switch.Counters.Flooded);
    }

    [Fact]
    public void ALearnedMacGetsItsFramesOnItsLinkOnly()
    {
        From(_a, MacA, Unknown);
        ClearSent();
        byte[] frame = Frame(MacB, MacA);
        _switch.OnFrame(_b, frame, default);
        Assert.Equal([frame], _a.Sent);
        Assert.Empty(_b.Sent);
        Assert.Empty(_c.Sent);
        Assert.Equal(1, _switch.Counters.BetweenGuests);
    }

    [Fact]
    public void AFrameForTheLinkItCameFromIsNotSentBack()
    {
        // Two MACs behind one link (a bridge in the VM) talk without the switch.
        From(_a, MacA, Unknown);
        ClearSent();
        From(_a, new MacAddress(0x02_00_00_00_00_AA), MacA);
        Assert.Empty(_a.Sent);
        Assert.Empty(_b.Sent);
        Assert.Empty(_c.Sent);
    }

    [Fact]
    public void AMacIsBoundToTheLinkThatFirstUsedItAndAForgeryIsDroppedAndCounted()
    {
        From(_a, MacA, Unknown);
        ClearSent();
        From(_b, MacA, Unknown);
        Assert.Empty(_a.Sent);
        Assert.Empty(_c.Sent);
        Assert.Equal(1, _switch.Counters.MacSpoofed);

        // Frames for the MAC still go to the link that owns it, not to the forger.
        From(_c, MacC, MacA);
        Assert.Single(_a.Sent);
        Assert.Empty(_b.Sent);
    }

    [Fact]
    public void AMacIsFreeForAnotherLinkOnceItsOwnerCloses()
    {
        // A VM that reconnects on a new link with its MAC.
        From(_a, MacA, Unknown);
        _switch.OnLinkClosed(_a, "the peer closed the connection");
        ClearSent();
        From(_b, MacA, Unknown);
        Assert.Single(_c.Sent);
        Assert.Equal(0, _switch.Counters.MacSpoofed);

        From(_c, MacC, MacA);
        Assert.Single(_b.Sent);
    }

    [Fact]
    public void NoGuestMaySendFromTheStacksMac()
    {
        From(_a, TestFrames.StackMac, MacAddress.Broadcast);
        Assert.Empty(_b.Sent);
        Assert.Empty(_stack.Received);
        Assert.Equal(1, _switch.Counters.MacSpoofed);
    }

    [Fact]
    public void FramesToTheStackMacGoToTheStackOnly()
    {
        From(_a, MacA, TestFrames.StackMac);
        var (frame, from, _) = Assert.Single(_stack.Received);
        Assert.Same(_a, from);
        Assert.Equal(Frame(MacA, TestFrames.StackMac), frame);
        Assert.Empty(_b.Sent);
        Assert.Empty(_c.Sent);
        Assert.Equal(1, _switch.Counters.ToStack);
    }

    [Theory]
    [InlineData(0xFFFF_FFFF_FFFFUL)]
    [InlineData(0x3333_0000_0001UL)]
    public void BroadcastAndMulticastGoToTheOtherGuestsAndTheStack(ulong destination)
    {
        From(_a, MacA, new MacAddress(destination));
        Assert.Single(_stack.Received);
        Assert.Empty(_a.Sent);
        Assert.Single(_b.Sent);
        Assert.Single(_c.Sent);
    }

    [Fact]
    public void TheStackSendsToTheLearnedLinkOrFloods()
    {
        From(_a, MacA, TestFrames.StackMac);
        _switch.Transmit(Frame(TestFrames.StackMac, MacA));
        Assert.Single(_a.Sent);
        Assert.Empty(_b.Sent);

        ClearSent();
        _switch.Transmit(Frame(TestFrames.StackMac, Unknown));
        Assert.Single(_a.Sent);
        Assert.Single(_b.Sent);
        Assert.Single(_c.Sent);

        ClearSent();
        _switch.Transmit(Frame(TestFrames.StackMac, MacAddress.Broadcast));
        Assert.Single(_a.Sent);
        Assert.Single(_b.Sent);
        Assert.Single(_c.Sent);
    }

    [Fact]
    public void AFrameTooShortForAnEthernetHeaderIsCountedAndGoesNowhere()
    {
        _switch.OnFrame(_a, new byte[13], default);
        Assert.Equal(1, _switch.Counters.Truncated);
        Assert.Empty(_stack.Received);
        Assert.Empty(_b.Sent);
    }

    [Theory]
    [InlineData(0x0300_0000_0001UL)]
    [InlineData(0xFFFF_FFFF_FFFFUL)]
    [InlineData(0UL)]
    public void AFrameFromAGroupOrZeroMacIsDroppedAndCounted(ulong source)
    {
        From(_a, new MacAddress(source), MacAddress.Broadcast);
        Assert.Empty(_b.Sent);
        Assert.Empty(_stack.Received);
        Assert.Equal(1, _switch.Counters.BadSourceMac);
    }

    [Fact]
    public void AFloodOfForgedMacsChurnsOnlyTheFloodersOwnEntries()
    {
        From(_b, MacB, TestFrames.StackMac);
        for (ulong i = 1; i <= 5000; i++)
        {
            From(_a, new MacAddress(0x02_F0_00_00_00_00 | i), TestFrames.StackMac);
        }
        // A kept its last MacTable.PerLink MACs; B's entry was never touched.
        var stats = Stats(_switch);
        Assert.Equal(MacTable.PerLink + 1, stats.GetProperty("macs").GetInt32());
        Assert.Equal(5000 - MacTable.PerLink, stats.GetProperty("macsEvicted").GetInt64());
        ClearSent();
        From(_c, MacC, MacB);
        Assert.Empty(_a.Sent);
        Assert.Single(_b.Sent);
    }

    [Fact]
    public void WhenTheMacTableIsFullFramesFromNewMacsAreDroppedAndNoLiveEntryIsEvicted()
    {
        From(_b, MacB, TestFrames.StackMac);
        // Links, each with at most its share, fill the table but for B's entry.
        var links = TestLinks.Fill(MacTable.Capacity - 1, MacTable.PerLink, (n, link) =>
        {
            if (!_switch.Links.Contains(link))
            {
                _switch.Attach(link);
            }
            From(link, new MacAddress(0x02_E0_00_00_00_00UL | (uint)n), TestFrames.StackMac);
        });
        Assert.Equal(MacTable.Capacity, Stats(_switch).GetProperty("macs").GetInt32());
        _stack.Received.Clear();

        From(_c, MacC, TestFrames.StackMac);
        Assert.Empty(_stack.Received);
        Assert.Equal(1, _switch.Counters.MacTableFull);
        ClearSent();
        From(_a, MacA, MacB);
        Assert.Empty(_b.Sent);
        Assert.Equal(2, _switch.Counters.MacTableFull);

        // B, known already, still sends and is still reached; a link that closes makes room.
        From(_b, MacB, TestFrames.StackMac);
        _switch.OnLinkClosed(links[0], "gone");
        From(_c, MacC, MacB);
        Assert.Single(_b.Sent);
        Assert.Equal(2, _switch.Counters.MacTableFull);
    }

    private static JsonElement Stats(VirtualSwitch network) => JsonDocument.Parse(JsonText.Build(network.WriteJson)).RootElement;

    [Fact]
    public void ClosingALinkForgetsItsMacsAndTellsTheStack()
    {
        var closed = new List<(FrameLink Link, string Reason)>();
        _switch.LinkClosed += (link, reason) => closed.Add((link, reason));
        From(_a, MacA, TestFrames.StackMac);

        _switch.OnLinkClosed(_a, "the peer closed the connection");
        Assert.Equal([_b, _c], _switch.Links);
        Assert.Equal([_a], _stack.Closed);
        Assert.Equal([((FrameLink)_a, "the peer closed the connection")], closed);
        Assert.Equal(1, _switch.Counters.LinksClosed);

        From(_c, MacC, MacA);
        Assert.Empty(_a.Sent);
        Assert.Single(_b.Sent);

        // A second report for the same link changes nothing.
        _switch.OnLinkClosed(_a, "again");
        Assert.Single(closed);
        Assert.Equal(1, _switch.Counters.LinksClosed);
    }

    [Fact]
    public void TheLastLinkClosingIsAnnounced()
    {
        int announced = 0;
        _switch.AllLinksClosed += () => announced++;
        _switch.OnLinkClosed(_a, "done");
        _switch.OnLinkClosed(_b, "done");
        Assert.Equal(0, announced);
        _switch.OnLinkClosed(_c, "done");
        Assert.Equal(1, announced);
    }

    [Fact]
    public void FlushWritesOutEveryLinksBatch()
    {
        // The instance registers the switch's flush last in each loop batch (after TCP's ACKs).
        _switch.Flush();
        Assert.Equal(1, _a.Flushes);
        Assert.Equal(1, _b.Flushes);
        Assert.Equal(1, _c.Flushes);
        Assert.Equal(3, _switch.Counters.LinksOpened);
    }

    [Fact]
    public void AGuestReachesARealStackThroughTheSwitch()
    {
        // The stack transmits through the switch, which knows where the guest is.
        using var loop = new EventLoop();
        var network = new VirtualSwitch(loop);
        var stack = new NetworkStack.Builder(new StackOptions(), network, loop.Timers).Build();
        network.AttachStack(stack);
        var guest = new RecordingLink("guest");
        var bystander = new RecordingLink("bystander");
        network.Attach(guest);
        network.Attach(bystander);

        network.OnFrame(guest, TestFrames.ArpRequest(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway), default);
        // The broadcast request reaches the bystander; the reply only the guest.
        Assert.Single(bystander.Sent);
        byte[] reply = Assert.Single(guest.Sent);
        Assert.True(EthernetFrame.TryParse(reply, out var ethernet));
        Assert.Equal(TestFrames.GuestMac, ethernet.Destination);
        Assert.Equal(EtherType.Arp, ethernet.EtherType);

        network.OnFrame(guest, TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, 1, 1), default);
        Assert.Equal(2, guest.Sent.Count);
        Assert.Single(bystander.Sent);
        Assert.Equal(1, stack.Counters.EchoRepliesSent);
    }

    /// <summary>A UDP frame whose checksum the sender left partial, and the same frame complete.</summary>
    private static (byte[] Partial, byte[] Complete, ReceivedChecksum Checksum) PartialUdp(MacAddress source, MacAddress destination)
    {
        var to = Ipv4Address.Parse("192.168.65.4");
        byte[] complete = TestFrames.Udp(source, destination, TestFrames.Guest, to, 40000, 7, "offloaded"u8);
        int start = EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength;
        ulong pseudo = InternetChecksum.PseudoHeaderV4(TestFrames.Guest, to, IpProtocol.Udp, complete.Length - start);
        byte[] partial = (byte[])complete.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(partial.AsSpan(start + 6), (ushort)~InternetChecksum.Finish(pseudo));
        return (partial, complete, new ReceivedChecksum(ReceivedChecksumState.Partial, start, 6));
    }

    [Fact]
    public void AFrameForAnotherGuestLeavesWithItsPartialChecksumCompleted()
    {
        From(_b, MacB, Unknown);
        ClearSent();
        var (partial, complete, checksum) = PartialUdp(MacA, MacB);
        _switch.OnFrame(_a, partial, default, checksum);
        Assert.Equal([complete], _b.Sent);
    }

    [Fact]
    public void AFloodedFrameLeavesWithItsPartialChecksumCompleted()
    {
        var (partial, complete, checksum) = PartialUdp(MacA, MacAddress.Broadcast);
        _switch.OnFrame(_a, partial, default, checksum);
        Assert.Equal([complete], _b.Sent);
        Assert.Equal([complete], _c.Sent);
        Assert.True(Assert.Single(_stack.Received).ChecksumTrusted);
    }

    [Fact]
    public void TheStackIsToldWhetherTheLinkVouchedForTheChecksum()
    {
        var (partial, _, checksum) = PartialUdp(MacA, TestFrames.StackMac);
        _switch.OnFrame(_a, partial, default, checksum);
        _switch.OnFrame(_a, partial, default, new ReceivedChecksum(ReceivedChecksumState.Valid));
        _switch.OnFrame(_a, partial, default);
        Assert.Equal([true, true, false], _stack.Received.Select(r => r.ChecksumTrusted));
    }

    [Fact]
    public void APartialChecksumPointingOutsideTheFrameIsDroppedAndCounted()
    {
        var (partial, _, _) = PartialUdp(MacA, MacAddress.Broadcast);
        _switch.OnFrame(_a, partial, default, new ReceivedChecksum(ReceivedChecksumState.Partial, partial.Length - 1, 6));
        Assert.Empty(_b.Sent);
        Assert.Empty(_c.Sent);
        Assert.Empty(_stack.Received);
        Assert.Equal(1, _switch.Counters.BadChecksumOffload);
    }

    /// <summary>What the stack sends: a TCP segment to a guest whose checksum holds the pseudo-header's sum only.</summary>
    private static (byte[] Partial, byte[] Complete, PartialChecksum Checksum) StackPartialTcp(MacAddress destination)
    {
        int start = EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength;
        byte[] segment = TestFrames.TcpSegmentBytes(new IpEndpoint(TestFrames.Gateway, 443), new IpEndpoint(TestFrames.Guest, 40000),
            1000, 2000, TcpFlags.Ack | TcpFlags.Psh, "a payload the guest's kernel sums, or the switch"u8);
        byte[] partial = TestFrames.Ipv4(TestFrames.StackMac, destination, TestFrames.Gateway, TestFrames.Guest, IpProtocol.Tcp, segment);
        int length = partial.Length - start;
        new TcpSegment(partial.AsSpan(start)).FillPartialChecksum(
            InternetChecksum.PseudoHeaderV4(TestFrames.Gateway, TestFrames.Guest, IpProtocol.Tcp, length));
        byte[] complete = (byte[])partial.Clone();
        new TcpSegment(complete.AsSpan(start)).FillChecksum(
            InternetChecksum.PseudoHeaderV4(TestFrames.Gateway, TestFrames.Guest, IpProtocol.Tcp, length));
        Assert.NotEqual(partial, complete);
        return (partial, complete, new PartialChecksum(start, TcpSegment.ChecksumOffset));
    }

    [Fact]
    public void AFrameTheStackLeftPartialGoesAsItIsToALinkThatTakesPartialChecksums()
    {
        var tap = new RecordingLink("tap", takesPartialChecksums: true);
        _switch.Attach(tap);
        _switch.OnFrame(tap, Frame(MacC, TestFrames.StackMac), default);
        var (partial, _, checksum) = StackPartialTcp(MacC);

        _switch.Transmit((byte[])partial.Clone(), checksum);

        var sent = Assert.Single(tap.SentPartial);
        Assert.Equal(partial, sent.Frame);
        Assert.Equal(checksum, sent.Checksum);
        Assert.Empty(tap.Sent);
    }

    [Fact]
    public void AFrameTheStackLeftPartialIsCompletedForALinkThatNeedsItWhole()
    {
        From(_a, MacA, TestFrames.StackMac);
        var (partial, complete, checksum) = StackPartialTcp(MacA);
        _switch.Transmit(partial, checksum);
        Assert.Equal([complete], _a.Sent);

        ClearSent();
        (partial, complete, checksum) = StackPartialTcp(MacA);
        _switch.TransmitTo(_b, partial, checksum);
        Assert.Equal([complete], _b.Sent);
    }

    [Fact]
    public void AFloodedFrameTheStackLeftPartialIsCompletedForEveryLink()
    {
        var tap = new RecordingLink("tap", takesPartialChecksums: true);
        _switch.Attach(tap);
        var (partial, complete, checksum) = StackPartialTcp(Unknown);
        _switch.Transmit(partial, checksum);
        Assert.Equal([complete], _a.Sent);
        Assert.Equal([complete], tap.Sent);
        Assert.Empty(tap.SentPartial);
    }

    [Fact]
    public void ACaptureSeesTheStacksFramesWithTheirChecksumsComplete()
    {
        var directory = Directory.CreateTempSubdirectory("usernet-capture-");
        string path = Path.Combine(directory.FullName, "c.pcap");
        var tap = new RecordingLink("tap", takesPartialChecksums: true);
        _switch.Attach(tap);
        _switch.OnFrame(tap, Frame(MacC, TestFrames.StackMac), default);
        var (partial, complete, checksum) = StackPartialTcp(MacC);
        using (_switch.Capture = PcapWriter.Create(path))
        {
            _switch.Transmit(partial, checksum);
        }
        _switch.Capture = null;

        Assert.Equal([complete], tap.Sent);
        byte[] file = File.ReadAllBytes(path);
        directory.Delete(recursive: true);
        Assert.Equal(complete, file[^complete.Length..]);
    }
}
