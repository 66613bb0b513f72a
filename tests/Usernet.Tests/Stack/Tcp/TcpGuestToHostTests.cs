using Usernet.Stack.Tcp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack.Tcp;

/// <summary>Guest data goes straight into the host socket; what it cannot take yet waits in the backlog and closes the window.</summary>
public sealed class TcpGuestToHostTests
{
    private static readonly byte[] NoWindowScale = TcpSynOptionBytes.Build(windowScale: null);

    private static TcpGuest Connected(TcpHarness harness, byte[]? synOptions = null, uint isn = 1000)
    {
        var guest = new TcpGuest(harness, isn);
        guest.Connect(synOptions);
        return guest;
    }

    [Fact]
    public void InOrderDataIsWrittenToTheHostSocketAndAcknowledged()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);

        guest.Data("hello, "u8);
        guest.Data("world"u8);

        Assert.Equal("hello, world"u8.ToArray(), guest.Host.Written);
        var acks = harness.TakeSegments();
        Assert.All(acks, ack => Assert.Equal(TcpFlags.Ack, ack.Flags));
        Assert.Equal(guest.Next, acks[^1].Acknowledgment);
        Assert.Equal(12, harness.Counters.BytesFromGuest);
    }

    [Fact]
    public void DataOverIpv6IsWrittenAndAcknowledged()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness, TcpGuest.DefaultLocalV6, TcpHarness.RemoteV6);
        guest.Connect();

        guest.Data("over IPv6"u8);

        Assert.Equal("over IPv6"u8.ToArray(), guest.Host.Written);
        var ack = harness.TakeOne();
        Assert.Equal(TcpHarness.RemoteV6, ack.Source);
        Assert.Equal(guest.Next, ack.Acknowledgment);
    }

    [Fact]
    public void OneAckAnswersAllTheSegmentsOfALoopBatch()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);

        for (int i = 0; i < 4; i++)
        {
            harness.Receive(guest.Frame(TcpFlags.Ack, TcpHarness.Bytes(100, start: 100 * i)));
            guest.Next += 100;
        }
        harness.AssertNothingSent();
        harness.EndBatch();

        var ack = harness.TakeOne();
        Assert.Equal(guest.Next, ack.Acknowledgment);
        Assert.Equal(TcpHarness.Bytes(400), guest.Host.Written);
    }

    [Fact]
    public void TheWindowWeOfferIsScaledByOurShift()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Data("x"u8);

        // The host socket has room for more than the largest window we offer.
        Assert.Equal(new TcpOptions().MaxReceiveWindow >> TcpConnection.OurWindowShift, harness.TakeOne().Window);
    }

    [Fact]
    public void WithoutWindowScaleTheWindowWeOfferIsCappedAt65535()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness, NoWindowScale);
        guest.Data("x"u8);

        Assert.Equal(65535, harness.TakeOne().Window);
    }

    [Fact]
    public void AnOutOfOrderSegmentIsNotWrittenAndGetsAnImmediateDuplicateAck()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Data("abc"u8);
        harness.TakeSegments();

        // "def" is lost; "ghi" arrives. The duplicate ACK goes out at once, inside the batch.
        harness.Receive(guest.Frame(TcpFlags.Ack, "ghi"u8, seq: guest.Next + 3));
        var duplicate = harness.TakeOne();
        Assert.Equal(guest.Next, duplicate.Acknowledgment);
        harness.EndBatch();
        harness.AssertNothingSent();

        Assert.Equal("abc"u8.ToArray(), guest.Host.Written);
        Assert.Equal(1, harness.Counters.OutOfOrder);
    }

    [Fact]
    public void EachOutOfOrderSegmentGetsItsOwnDuplicateAckSoTheGuestRetransmitsFast()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);

        for (int i = 1; i <= 3; i++)
        {
            harness.Receive(guest.Frame(TcpFlags.Ack, TcpHarness.Bytes(100), seq: guest.Next + (uint)(100 * i)));
        }
        harness.EndBatch();

        var acks = harness.TakeSegments();
        Assert.Equal(3, acks.Count);
        Assert.All(acks, ack => Assert.Equal(guest.Next, ack.Acknowledgment));
        Assert.Empty(guest.Host.Written);
    }

    [Fact]
    public void AfterAHoleIsFilledTheResentRestIsWrittenInOrder()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        byte[] data = TcpHarness.Bytes(300);
        guest.Send(TcpFlags.Ack, data.AsSpan(100, 100), seq: guest.Next + 100);

        // The guest resends from the hole on: what was held is not written twice.
        guest.Data(data.AsSpan(0, 100));
        guest.Data(data.AsSpan(100, 100));
        guest.Data(data.AsSpan(200, 100));

        Assert.Equal(data, guest.Host.Written);
        Assert.Equal(guest.Next, harness.TakeSegments()[^1].Acknowledgment);
    }

    [Fact]
    public void SegmentsPastAHoleAreHeldAndWrittenInOrderOnceItFills()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        byte[] data = TcpHarness.Bytes(400);

        // A forwarding guest's CPUs swapped them: the last three arrive before the first.
        guest.Send(TcpFlags.Ack, data.AsSpan(300, 100), seq: guest.Next + 300);
        guest.Send(TcpFlags.Ack, data.AsSpan(100, 100), seq: guest.Next + 100);
        guest.Send(TcpFlags.Ack, data.AsSpan(200, 100), seq: guest.Next + 200);
        Assert.Empty(guest.Host.Written);
        Assert.Equal(3, harness.Counters.OutOfOrderHeld);
        harness.TakeSegments();

        guest.Data(data.AsSpan(0, 100));

        Assert.Equal(data, guest.Host.Written);
        Assert.Equal(guest.Next + 300, harness.TakeSegments()[^1].Acknowledgment);
        Assert.Equal(0, harness.Tcp.Backlog.InUse);
    }

    [Fact]
    public void AtMostEightSegmentsAreHeldAndTheRestIsResent()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        for (int i = 1; i <= ReorderQueue.MaxSegments + 2; i++)
        {
            guest.Send(TcpFlags.Ack, TcpHarness.Bytes(100), seq: guest.Next + (uint)(100 * i));
        }
        Assert.Equal(ReorderQueue.MaxSegments + 2, harness.Counters.OutOfOrder);
        Assert.Equal(ReorderQueue.MaxSegments, harness.Counters.OutOfOrderHeld);
        Assert.Equal(ReorderQueue.MaxSegments * 100, harness.Tcp.Backlog.InUse);
    }

    [Fact]
    public void HeldSegmentsAreLetGoWhenTheConnectionEnds()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Send(TcpFlags.Ack, TcpHarness.Bytes(100), seq: guest.Next + 100);
        Assert.Equal(100, harness.Tcp.Backlog.InUse);

        guest.Rst();

        Assert.Equal(0, harness.Tcp.Backlog.InUse);
        Assert.Empty(guest.Host.Written);
    }

    [Fact]
    public void RetransmittedDataIsAcknowledgedAgainButNotWrittenTwice()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Data("once"u8);
        harness.TakeSegments();

        guest.Send(TcpFlags.Ack | TcpFlags.Psh, "once"u8, seq: guest.Next - 4);

        Assert.Equal("once"u8.ToArray(), guest.Host.Written);
        Assert.Equal(guest.Next, harness.TakeOne().Acknowledgment);
    }

    [Fact]
    public void ASegmentOverlappingOldDataWritesOnlyItsNewBytes()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Data("hello"u8);

        // The guest repacketized: the last three bytes again, then new ones.
        guest.Send(TcpFlags.Ack, "lloworld"u8, seq: guest.Next - 3);
        guest.Next += 5;

        Assert.Equal("helloworld"u8.ToArray(), guest.Host.Written);
        Assert.Equal(guest.Next, harness.TakeSegments()[^1].Acknowledgment);
    }

    [Theory]
    [InlineData(0x7FFF_FF00u)]
    [InlineData(0xFFFF_FF00u)]
    [InlineData(0xFFFF_FFFFu)]
    public void DataAcrossTheSequenceWrapIsWritten(uint isn)
    {
        var harness = new TcpHarness();
        var guest = Connected(harness, isn: isn);
        byte[] data = TcpHarness.Bytes(1000);

        for (int offset = 0; offset < data.Length; offset += 250)
        {
            guest.Data(data.AsSpan(offset, 250));
        }

        Assert.Equal(data, guest.Host.Written);
        Assert.Equal(isn + 1001, harness.TakeSegments()[^1].Acknowledgment);
    }

    [Fact]
    public void DataBeyondTheOfferedWindowIsTrimmedToIt()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness, NoWindowScale);

        // The SYN-ACK offered 65535 bytes; both segments come in one batch, before any window update.
        harness.Receive(guest.Frame(TcpFlags.Ack, TcpHarness.Bytes(65000)));
        harness.Receive(guest.Frame(TcpFlags.Ack, TcpHarness.Bytes(1000, start: 65000), seq: guest.Next + 65000));
        harness.EndBatch();

        Assert.Equal(TcpHarness.Bytes(65535), guest.Host.Written);
        Assert.Equal(guest.Next + 65535, harness.TakeOne().Acknowledgment);
        Assert.Equal(1, harness.Counters.OutOfWindow);
    }

    [Fact]
    public void ASegmentWhollyBeyondTheWindowIsDroppedAndAnsweredWithAnAck()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness, NoWindowScale);

        guest.Send(TcpFlags.Ack, "far"u8, seq: guest.Next + 100_000);

        Assert.Empty(guest.Host.Written);
        Assert.Equal(guest.Next, harness.TakeOne().Acknowledgment);
        Assert.Equal(1, harness.Counters.OutOfWindow);
    }

    [Fact]
    public void AGuestKeepaliveProbeIsAnsweredWithAnAck()
    {
        // Linux probes with <SEQ=SND.UNA-1>, no data (RFC 9293 §3.8.4): unacceptable, so answered.
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Data("x"u8);
        harness.TakeSegments();

        guest.Send(TcpFlags.Ack, seq: guest.Next - 1);

        var ack = harness.TakeOne();
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Assert.Equal(guest.Next, ack.Acknowledgment);
    }

    /// <summary>
    /// Backpressure in small numbers: a window of 8192 bytes and a host socket that holds 4096,
    /// 3000 of them unread. The SYN-ACK's 65535 bytes are used up first, as the edge of a window
    /// once offered never moves back.
    /// </summary>
    private static (TcpHarness Harness, TcpGuest Guest) Backpressured()
    {
        var harness = new TcpHarness(new TcpOptions { MinReceiveWindow = 8192, MaxReceiveWindow = 8192 });
        var guest = Connected(harness, NoWindowScale);
        harness.Receive(guest.Frame(TcpFlags.Ack, new byte[60000]));
        harness.Receive(guest.Frame(TcpFlags.Ack, new byte[5535], seq: guest.Next + 60000));
        guest.Next += 65535;
        harness.EndBatch();
        Assert.Equal(8192, harness.TakeOne().Window);

        guest.Host.PeerReads();
        guest.Host.SendBufferSize = 4096;
        guest.Data(new byte[3000]);
        Assert.Equal(8192, harness.TakeOne().Window);
        return (harness, guest);
    }

    [Fact]
    public void TheWindowShrinksByWhatTheBacklogHolds()
    {
        var (harness, guest) = Backpressured();

        // The socket takes 1096 of these; the rest waits in the backlog, acknowledged.
        guest.Data(new byte[3000]);

        var ack = harness.TakeOne();
        Assert.Equal(guest.Next, ack.Acknowledgment);
        Assert.Equal(8192 - 1904, ack.Window);
        Assert.Equal(65535 + 4096, guest.Host.Written.Length);
        Assert.Equal(1, harness.Counters.PartialWrites);
        Assert.Equal(1904, harness.Tcp.Backlog.InUse);
    }

    /// <summary>Fills the window <see cref="Backpressured"/> left open: the backlog then holds all of it (8192 bytes).</summary>
    private static void CloseWindow(TcpHarness harness, TcpGuest guest)
    {
        guest.Data(TcpHarness.Bytes(3000));
        Assert.Equal(6288, harness.TakeOne().Window);
        guest.Data(TcpHarness.Bytes(6288, start: 3000));
        var ack = harness.TakeOne();
        Assert.Equal(guest.Next, ack.Acknowledgment);
        Assert.Equal(0, ack.Window);
    }

    [Fact]
    public void TheWindowClosesWhenTheBacklogHoldsAWholeWindow()
    {
        var (harness, guest) = Backpressured();

        CloseWindow(harness, guest);

        Assert.Equal(8192, harness.Tcp.Backlog.InUse);
    }

    [Fact]
    public void DataIntoOurZeroWindowIsDroppedAndAnsweredWithTheZeroWindow()
    {
        var (harness, guest) = Backpressured();
        CloseWindow(harness, guest);

        // The guest's zero-window probe carries a byte: it is not taken.
        guest.Send(TcpFlags.Ack, "!"u8);

        var ack = harness.TakeOne();
        Assert.Equal(guest.Next, ack.Acknowledgment);
        Assert.Equal(0, ack.Window);
        Assert.Equal(8192, harness.Tcp.Backlog.InUse);
    }

    [Fact]
    public void AGuestZeroWindowProbeIsAnsweredWithOurWindow()
    {
        var (harness, guest) = Backpressured();
        CloseWindow(harness, guest);

        // Linux's persist probe is <SEQ=SND.UNA-1> with no data: it must get our window back,
        // or a lost window update would leave the guest waiting for good.
        guest.Send(TcpFlags.Ack, seq: guest.Next - 1);
        Assert.Equal(0, harness.TakeOne().Window);

        guest.Host.PeerReads();
        harness.OnHost(guest.Host.Events.OnHostWritable);
        harness.TakeOne();
        guest.Send(TcpFlags.Ack, seq: guest.Next - 1);
        Assert.Equal(4096, harness.TakeOne().Window);
    }

    [Fact]
    public void AWritableHostDrainsTheBacklogAndReopensTheWindowWithAnUpdate()
    {
        var (harness, guest) = Backpressured();
        CloseWindow(harness, guest);

        guest.Host.PeerReads();
        harness.OnHost(guest.Host.Events.OnHostWritable);
        var update = harness.TakeOne();
        Assert.Equal(TcpFlags.Ack, update.Flags);
        Assert.Equal(guest.Next, update.Acknowledgment);
        Assert.Equal(8192 - 4096, update.Window);

        guest.Host.PeerReads();
        harness.OnHost(guest.Host.Events.OnHostWritable);
        Assert.Equal(8192, harness.TakeOne().Window);
        Assert.Equal(TcpHarness.Bytes(9288), guest.Host.Written[^9288..]);
        Assert.Equal(0, harness.Tcp.Backlog.InUse);
    }

    [Fact]
    public void DataTheBacklogBudgetCannotHoldIsLeftForTheGuestToResend()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Host.SendBufferSize = 0;
        // Other connections hold the whole budget.
        Assert.True(harness.Tcp.Backlog.TryTake((int)harness.Tcp.Backlog.Limit));
        uint before = guest.Next;

        guest.Data(TcpHarness.Bytes(1000));

        Assert.Equal(before, harness.TakeOne().Acknowledgment);
        Assert.Empty(guest.Host.Written);
    }

    [Fact]
    public void AHostWriteFailureResetsTheGuest()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Host.Broken = true;
        guest.Host.Error = TcpHostError.Reset;

        guest.Data("doomed"u8);

        var reset = harness.TakeOne();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reset.Flags);
        Assert.Equal(guest.StackIsn + 1, reset.Sequence);
        Assert.Equal(0, harness.Tcp.Count);
        Assert.Equal(1, harness.Counters.ResetsFromHost);
    }
}
