using Usernet.Stack.Tcp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack.Tcp;

/// <summary>
/// Closing, each side's FIN passed on to the other: the host's end of stream becomes our FIN
/// after its data, the guest's FIN a shutdown of the host socket's write side after its data.
/// </summary>
public sealed class TcpCloseTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    private static TcpGuest Connected(TcpHarness harness, uint isn = 1000)
    {
        var guest = new TcpGuest(harness, isn);
        guest.Connect();
        return guest;
    }

    private static TcpState StateOf(TcpHarness harness, TcpGuest guest) => harness.Connection(guest.Key).State;

    /// <summary>The host peer closes its side; returns our FIN.</summary>
    private static SentSegment HostCloses(TcpHarness harness, TcpGuest guest)
    {
        guest.Host.PeerCloses();
        harness.OnHost(guest.Host.Events.OnHostReadable);
        var fin = harness.TakeSegments()[^1];
        Assert.Equal(TcpFlags.Fin | TcpFlags.Ack, fin.Flags);
        return fin;
    }

    /// <summary>The host peer sends <paramref name="count"/> bytes and closes before we read: returns what we sent.</summary>
    private static List<SentSegment> HostSendsThenCloses(TcpHarness harness, TcpGuest guest, int count)
    {
        guest.Host.PeerSends(TcpHarness.Bytes(count));
        guest.Host.PeerCloses();
        harness.OnHost(guest.Host.Events.OnHostReadable);
        return harness.TakeSegments();
    }

    /// <summary>The host peer closed its side and the guest acknowledged our FIN; the guest may still send.</summary>
    private static TcpGuest InFinWait2(TcpHarness harness)
    {
        var guest = Connected(harness);
        HostCloses(harness, guest);
        guest.AckMore(1);
        return guest;
    }

    /// <summary>Both sides closed, ours first: the connection waits in TIME-WAIT, and the guest has the ACK of its FIN.</summary>
    private static TcpGuest InTimeWait(TcpHarness harness)
    {
        var guest = InFinWait2(harness);
        guest.Fin();
        Assert.Equal(guest.Next, harness.TakeOne().Acknowledgment);
        Assert.Equal(TcpState.TimeWait, StateOf(harness, guest));
        return guest;
    }

    [Fact]
    public void TheHostsEndOfStreamGoesAsAFinWithItsLastData()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);

        var segments = HostSendsThenCloses(harness, guest, 2000);

        Assert.Equal([1460, 540], segments.Select(s => s.Payload.Length));
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, segments[0].Flags);
        var last = segments[^1];
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Fin, last.Flags);
        Assert.Equal(guest.StackIsn + 1 + 1460, last.Sequence);
        Assert.Equal(TcpState.FinWait1, StateOf(harness, guest));

        guest.AckMore(2000 + 1);
        Assert.Equal(TcpState.FinWait2, StateOf(harness, guest));
        Assert.Equal(2000, guest.Host.Discards.Sum());
    }

    [Fact]
    public void AnEndOfStreamThatFillsTheLastSegmentExactlyGoesAsAFinOfItsOwn()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);

        var segments = HostSendsThenCloses(harness, guest, 2920);

        Assert.Equal([1460, 1460, 0], segments.Select(s => s.Payload.Length));
        Assert.Equal(TcpFlags.Fin | TcpFlags.Ack, segments[^1].Flags);
        Assert.Equal(guest.StackIsn + 1 + 2920, segments[^1].Sequence);
    }

    [Fact]
    public void AnEndOfStreamAfterTheDataWentGoesAsAFinOfItsOwn()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Host.PeerSends(TcpHarness.Bytes(2000));
        harness.OnHost(guest.Host.Events.OnHostReadable);
        Assert.Equal([1460, 540], harness.TakeSegments().Select(s => s.Payload.Length));

        var fin = HostCloses(harness, guest);

        Assert.Empty(fin.Payload);
        Assert.Equal(guest.StackIsn + 1 + 2000, fin.Sequence);
        Assert.Equal(TcpState.FinWait1, StateOf(harness, guest));
    }

    [Fact]
    public void LastDataThatCarriedTheFinCarriesItAgainAfterTheRto()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        var first = Assert.Single(HostSendsThenCloses(harness, guest, 500));
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Fin, first.Flags);

        harness.Advance(new TcpOptions().MinRto);

        var again = harness.TakeOne();
        Assert.Equal(first.Flags, again.Flags);
        Assert.Equal(first.Sequence, again.Sequence);
        Assert.Equal(first.Payload, again.Payload);
    }

    [Fact]
    public void TheGuestsAckOfOurFinLeadsToFinWait2WithTheHostStillOpen()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        HostCloses(harness, guest);

        guest.AckMore(1);

        Assert.Equal(TcpState.FinWait2, StateOf(harness, guest));
        Assert.False(guest.Host.IsClosed);
        Assert.Empty(guest.Host.Discards);
        harness.AssertNothingSent();
    }

    [Fact]
    public void TheGuestMaySendOnAfterOurFin()
    {
        var harness = new TcpHarness();
        var guest = InFinWait2(harness);

        guest.Data("still talking"u8);

        Assert.Equal("still talking"u8.ToArray(), guest.Host.Written);
        Assert.Equal(guest.Next, harness.TakeOne().Acknowledgment);
    }

    [Fact]
    public void OurFinIsSentAgainAfterTheRto()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        var fin = HostCloses(harness, guest);

        harness.Advance(new TcpOptions().MinRto - Tick);
        harness.AssertNothingSent();
        harness.Advance(Tick);

        var again = harness.TakeOne();
        Assert.Equal(TcpFlags.Fin | TcpFlags.Ack, again.Flags);
        Assert.Equal(fin.Sequence, again.Sequence);
        Assert.Equal(TcpState.FinWait1, StateOf(harness, guest));
    }

    [Fact]
    public void TheGuestsFinAfterOursEntersTimeWaitAndClosesTheHostSocket()
    {
        var harness = new TcpHarness();
        var guest = InTimeWait(harness);

        Assert.Equal(1, guest.Host.ShutdownWrites);
        Assert.False(guest.Host.ClosedWithReset);
        Assert.Equal(1, harness.Counters.Closed);
    }

    [Fact]
    public void ATimeWaitConnectionLeavesTheTableAfterTheTimeWaitPeriod()
    {
        var harness = new TcpHarness();
        InTimeWait(harness);

        harness.Advance(new TcpOptions().TimeWait - Tick);
        Assert.Equal(1, harness.Tcp.Count);
        harness.Advance(Tick);

        Assert.Equal(0, harness.Tcp.Count);
        harness.AssertNothingSent();
    }

    [Fact]
    public void ARetransmittedFinInTimeWaitIsAcknowledgedAgain()
    {
        var harness = new TcpHarness();
        var guest = InTimeWait(harness);

        guest.Send(TcpFlags.Fin | TcpFlags.Ack, seq: guest.Next - 1);

        Assert.Equal(guest.Next, harness.TakeOne().Acknowledgment);
        Assert.Equal(TcpState.TimeWait, StateOf(harness, guest));
    }

    [Fact]
    public void ANewSynReplacesATimeWaitConnectionSilently()
    {
        var harness = new TcpHarness();
        var guest = InTimeWait(harness);

        // RFC 6191: the same ports again, a new ISN. The old connection is over for the guest
        // too, so it gets no RST (RFC 9293 §3.10.5: ABORT in TIME-WAIT sends nothing).
        var next = new TcpGuest(harness, isn: guest.Next + 100_000);
        next.Syn();

        harness.AssertNothingSent();
        Assert.Equal(2, harness.Connector.Attempts.Count);
        Assert.Equal(TcpState.HostConnecting, StateOf(harness, next));
    }

    [Fact]
    public void TheGuestsFinShutsDownTheHostWriteSide()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Data("request"u8);
        harness.TakeSegments();

        guest.Fin();

        Assert.Equal(guest.Next, harness.TakeOne().Acknowledgment);
        Assert.Equal(1, guest.Host.ShutdownWrites);
        Assert.False(guest.Host.IsClosed);
        Assert.Equal(TcpState.CloseWait, StateOf(harness, guest));
    }

    [Fact]
    public void AGuestCountsAsStillSendingUntilItsFin()
    {
        // What `usernet run` waits for after its command exits: guest data still on its way.
        var harness = new TcpHarness();
        var guest = Connected(harness);
        Assert.True(harness.Tcp.GuestsStillSending);

        guest.Fin();

        Assert.False(harness.Tcp.GuestsStillSending);
    }

    [Fact]
    public void TheHostAnswersOnAfterTheGuestsFin()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Fin();
        harness.TakeSegments();

        guest.Host.PeerSends("response"u8);
        harness.OnHost(guest.Host.Events.OnHostReadable);

        Assert.Equal("response"u8.ToArray(), harness.TakeOne().Payload);
    }

    [Fact]
    public void ALastAckConnectionLeavesTheTableWhenOurFinIsAcknowledged()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Fin();
        HostCloses(harness, guest);
        Assert.Equal(TcpState.LastAck, StateOf(harness, guest));

        guest.AckMore(1);

        Assert.Equal(0, harness.Tcp.Count);
        Assert.False(guest.Host.ClosedWithReset);
        Assert.Equal(1, harness.Counters.Closed);
        harness.AssertNothingSent();
    }

    [Fact]
    public void ASimultaneousCloseGoesThroughClosingToTimeWait()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        HostCloses(harness, guest);

        // The guest's FIN crosses ours: it does not acknowledge it yet.
        guest.Fin();
        Assert.Equal(guest.Next, harness.TakeOne().Acknowledgment);
        Assert.Equal(TcpState.Closing, StateOf(harness, guest));

        guest.AckMore(1);
        Assert.Equal(TcpState.TimeWait, StateOf(harness, guest));
        Assert.True(guest.Host.IsClosed);
    }

    /// <summary>The guest's last 1000 bytes go to a host socket with no room, so into the backlog, and its FIN follows.</summary>
    private static void GuestSendsIntoTheBacklogThenFin(TcpGuest guest)
    {
        guest.Host.SendBufferSize = 0;
        guest.Data(TcpHarness.Bytes(1000));
        guest.Fin();
        Assert.Equal(0, guest.Host.ShutdownWrites);
    }

    /// <summary>The host socket has room again: the backlog is written, then the write side shut down.</summary>
    private static void HostTakesTheBacklog(TcpHarness harness, TcpGuest guest)
    {
        guest.Host.SendBufferSize = 4096;
        harness.OnHost(guest.Host.Events.OnHostWritable);
        Assert.Equal(TcpHarness.Bytes(1000), guest.Host.Written);
        Assert.Equal(1, guest.Host.ShutdownWrites);
        Assert.Equal(0, harness.Tcp.Backlog.InUse);
    }

    [Fact]
    public void TheGuestsFinWaitsForItsBackloggedDataToReachTheHost()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        GuestSendsIntoTheBacklogThenFin(guest);

        HostTakesTheBacklog(harness, guest);

        Assert.False(guest.Host.IsClosed);
    }

    [Fact]
    public void BackloggedDataReachesTheHostEvenWhenTheGuestsFinEndsTheConnection()
    {
        // The host peer half-closed and reads slowly; the guest sends its last data and FIN.
        var harness = new TcpHarness();
        var guest = InFinWait2(harness);
        GuestSendsIntoTheBacklogThenFin(guest);
        Assert.Equal(TcpState.TimeWait, StateOf(harness, guest));
        Assert.False(guest.Host.IsClosed);

        // Past TIME-WAIT, the data we acknowledged still waits for the host peer.
        harness.Advance(TimeSpan.FromSeconds(10));
        Assert.False(guest.Host.IsClosed);

        HostTakesTheBacklog(harness, guest);
        Assert.False(guest.Host.ClosedWithReset);
        Assert.Equal(0, harness.Tcp.Count);
    }

    [Fact]
    public void BackloggedDataReachesTheHostEvenWhenTheGuestAcknowledgesOurLastFin()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        GuestSendsIntoTheBacklogThenFin(guest);
        HostCloses(harness, guest);

        guest.AckMore(1);
        Assert.False(guest.Host.IsClosed);

        HostTakesTheBacklog(harness, guest);
        Assert.False(guest.Host.ClosedWithReset);
        harness.Advance(new TcpOptions().TimeWait);
        Assert.Equal(0, harness.Tcp.Count);
    }
}
