using Usernet.Stack.Tcp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack.Tcp;

/// <summary>
/// Host data stays in the host socket until the guest acknowledges it: sent by peeking, within
/// the guest's window, retransmitted on timeout or three duplicate ACKs, discarded on ACK.
/// </summary>
public sealed class TcpHostToGuestTests
{
    /// <summary>After the handshake the RTO rests on a measured round trip of zero: the minimum.</summary>
    private static readonly TimeSpan MinRto = new TcpOptions().MinRto;

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    /// <summary>An established connection whose guest offers <paramref name="window"/> (in units of 2^7 with window scale).</summary>
    private static TcpGuest Connected(TcpHarness harness, ushort window = 65535, byte[]? synOptions = null)
    {
        var guest = new TcpGuest(harness);
        guest.Connect(synOptions);
        if (window != guest.Window)
        {
            guest.Ack(window: window);
        }
        harness.AssertNothingSent();
        return guest;
    }

    /// <summary>The host peer sends <paramref name="data"/>; returns what the stack sent on.</summary>
    private static List<SentSegment> HostSends(TcpHarness harness, TcpGuest guest, byte[] data)
    {
        guest.Host.PeerSends(data);
        harness.OnHost(guest.Host.Events.OnHostReadable);
        return harness.TakeSegments();
    }

    [Fact]
    public void HostDataGoesOutInSegmentsOfTheMss()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        byte[] data = TcpHarness.Bytes(4000);

        var segments = HostSends(harness, guest, data);

        Assert.Equal([1460, 1460, 1080], segments.Select(s => s.Payload.Length));
        Assert.All(segments, s => Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, s.Flags));
        Assert.All(segments, s => Assert.Equal(guest.Next, s.Acknowledgment));
        Assert.Equal([guest.StackIsn + 1, guest.StackIsn + 1461, guest.StackIsn + 2921], segments.Select(s => s.Sequence));
        Assert.Equal(data, segments.SelectMany(s => s.Payload));
        Assert.Equal(4000, harness.Counters.BytesToGuest);
        // Nothing is discarded before the guest acknowledges it.
        Assert.Empty(guest.Host.Discards);
        Assert.Equal(4000, guest.Host.Queued);
    }

    [Fact]
    public void TheGuestsSmallerMssBoundsTheSegments()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness, synOptions: TcpSynOptionBytes.Build(mss: 1000));

        var segments = HostSends(harness, guest, TcpHarness.Bytes(2500));

        Assert.Equal([1000, 1000, 500], segments.Select(s => s.Payload.Length));
    }

    [Fact]
    public void TheLinkMssBoundsTheSegmentsWhenTheGuestOffersMore()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness, synOptions: TcpSynOptionBytes.Build(mss: 9000));

        var segments = HostSends(harness, guest, TcpHarness.Bytes(3000));

        Assert.Equal([1460, 1460, 80], segments.Select(s => s.Payload.Length));
    }

    [Fact]
    public void SendingStopsAtTheGuestsScaledWindow()
    {
        var harness = new TcpHarness();
        // 20 << 7 = 2560 bytes.
        var guest = Connected(harness, window: 20);

        var segments = HostSends(harness, guest, TcpHarness.Bytes(10_000));

        Assert.Equal([1460, 1100], segments.Select(s => s.Payload.Length));
    }

    [Fact]
    public void WithoutWindowScaleTheGuestsWindowIsTakenAsIs()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness, window: 2000, synOptions: TcpSynOptionBytes.Build(windowScale: null));

        var segments = HostSends(harness, guest, TcpHarness.Bytes(10_000));

        Assert.Equal(2000, segments.Sum(s => s.Payload.Length));
    }

    [Fact]
    public void AnAckThatOpensTheWindowSendsMore()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness, window: 20);
        byte[] data = TcpHarness.Bytes(6000);
        var first = HostSends(harness, guest, data);

        guest.AckMore(2560);

        var second = harness.TakeSegments();
        Assert.Equal(2560, second.Sum(s => s.Payload.Length));
        Assert.Equal(guest.StackIsn + 1 + 2560, second[0].Sequence);
        Assert.Equal(data[..5120], first.Concat(second).SelectMany(s => s.Payload));
    }

    [Fact]
    public void AGuestAckDiscardsExactlyTheAcknowledgedBytes()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        HostSends(harness, guest, TcpHarness.Bytes(3000));

        guest.AckMore(1460);
        Assert.Equal([1460], guest.Host.Discards);

        // A partial ACK, inside the second segment: the rest stays in flight.
        guest.AckMore(500);
        guest.AckMore(1040);

        Assert.Equal([1460, 500, 1040], guest.Host.Discards);
        Assert.Equal(0, guest.Host.Queued);
        harness.AssertNothingSent();
    }

    [Fact]
    public void AnAckOfDataNeverSentIsDroppedWithItsDataAndAnswered()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        HostSends(harness, guest, TcpHarness.Bytes(100));

        // RFC 9293 §3.10.7.4: SEG.ACK > SND.NXT — send an ACK, drop the segment.
        guest.Send(TcpFlags.Ack, "zzz"u8, ack: guest.StackIsn + 1 + 500);

        var ack = harness.TakeOne();
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Assert.Equal(guest.Next, ack.Acknowledgment);
        Assert.Equal(guest.StackIsn + 101, ack.Sequence);
        Assert.Empty(guest.Host.Written);
        Assert.Empty(guest.Host.Discards);
    }

    [Fact]
    public void BannerDataTheHostSentBeforeTheHandshakeEndedGoesOutAfterIt()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Syn();
        harness.OnHost(guest.Host.Events.OnHostConnected);
        guest.Acked = harness.TakeOne().Sequence + 1;
        guest.Host.PeerSends("220 ready\r\n"u8);
        harness.OnHost(guest.Host.Events.OnHostReadable);
        harness.AssertNothingSent();

        guest.Ack();

        Assert.Equal("220 ready\r\n"u8.ToArray(), harness.TakeOne().Payload);
    }

    [Fact]
    public void AZeroWindowIsProbedWithBackoff()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness, window: 0);
        Assert.Empty(HostSends(harness, guest, TcpHarness.Bytes(100)));

        // Probes carry SND.UNA-1 and no data, which the guest must answer with its window.
        var interval = MinRto;
        for (int i = 1; i <= 4; i++)
        {
            harness.Advance(interval - Tick);
            harness.AssertNothingSent();
            harness.Advance(Tick);
            var probe = harness.TakeOne();
            Assert.Equal(TcpFlags.Ack, probe.Flags);
            Assert.Equal(guest.StackIsn, probe.Sequence);
            Assert.Empty(probe.Payload);
            Assert.Equal(i, harness.Counters.WindowProbes);
            guest.Ack(window: 0);
            interval *= 2;
        }
    }

    [Fact]
    public void AWindowUpdateEndsTheProbingAndSendsTheWaitingData()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness, window: 0);
        HostSends(harness, guest, TcpHarness.Bytes(100));
        harness.Advance(MinRto);
        harness.TakeOne();

        guest.Ack(window: 100);

        Assert.Equal(TcpHarness.Bytes(100), harness.TakeOne().Payload);
        guest.AckMore(100);
        harness.Advance(TimeSpan.FromSeconds(20));
        harness.AssertNothingSent();
        Assert.Equal(1, harness.Counters.WindowProbes);
    }

    [Fact]
    public void ALostSegmentIsSentAgainAfterTheRto()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        var sent = Assert.Single(HostSends(harness, guest, TcpHarness.Bytes(1000)));

        harness.Advance(MinRto - Tick);
        harness.AssertNothingSent();
        harness.Advance(Tick);

        var again = harness.TakeOne();
        Assert.Equal(sent.Sequence, again.Sequence);
        Assert.Equal(sent.Payload, again.Payload);
        Assert.Equal(1, harness.Counters.Retransmits);
    }

    [Fact]
    public void AfterATimeoutEverythingUnacknowledgedIsSentAgain()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        byte[] data = TcpHarness.Bytes(4000);
        HostSends(harness, guest, data);
        guest.AckMore(1460);

        harness.Advance(MinRto);

        var again = harness.TakeSegments();
        Assert.Equal(guest.Acked, again[0].Sequence);
        Assert.Equal(data[1460..], again.SelectMany(s => s.Payload));
    }

    [Fact]
    public void TheRtoDoublesAfterEachTimeout()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        HostSends(harness, guest, TcpHarness.Bytes(1000));

        var rto = MinRto;
        for (int i = 1; i <= 5; i++)
        {
            harness.Advance(rto - Tick);
            harness.AssertNothingSent();
            harness.Advance(Tick);
            Assert.Single(harness.TakeSegments());
            rto *= 2;
        }
        Assert.Equal(5, harness.Counters.Retransmits);
    }

    [Fact]
    public void TheRtoIsMeasuredAgainOnceAnAckTimesAFreshSegment()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        HostSends(harness, guest, TcpHarness.Bytes(1000));
        harness.Advance(MinRto);
        harness.Advance(MinRto * 2);
        harness.TakeSegments();
        guest.AckMore(1000);

        // Karn: the retransmitted segment was not timed; the next one is, 50 ms round trip.
        HostSends(harness, guest, TcpHarness.Bytes(1000));
        harness.Advance(TimeSpan.FromMilliseconds(50));
        guest.AckMore(1000);

        HostSends(harness, guest, TcpHarness.Bytes(1000));
        harness.Advance(MinRto - Tick);
        harness.AssertNothingSent();
        harness.Advance(Tick);
        Assert.Single(harness.TakeSegments());
    }

    [Fact]
    public void TooManyTimeoutsResetTheConnection()
    {
        var harness = new TcpHarness(new TcpOptions { MaxRetransmits = 3 });
        var guest = Connected(harness);
        HostSends(harness, guest, TcpHarness.Bytes(1000));

        harness.Advance(MinRto * (1 + 2 + 4));
        Assert.Equal(3, harness.TakeSegments().Count);

        harness.Advance(MinRto * 8);
        var reset = harness.TakeOne();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reset.Flags);
        Assert.True(guest.Host.ClosedWithReset);
        Assert.Equal(0, harness.Tcp.Count);
    }

    [Fact]
    public void ThreeDuplicateAcksSendTheFirstSegmentAgainAtOnce()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        var sent = HostSends(harness, guest, TcpHarness.Bytes(5 * 1460));

        guest.Ack();
        guest.Ack();
        harness.AssertNothingSent();
        guest.Ack();

        var again = harness.TakeOne();
        Assert.Equal(sent[0].Sequence, again.Sequence);
        Assert.Equal(sent[0].Payload, again.Payload);
        Assert.Equal(1, harness.Counters.FastRetransmits);
    }

    [Fact]
    public void AcksThatUpdateTheWindowOrCarryDataAreNoDuplicates()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        HostSends(harness, guest, TcpHarness.Bytes(5 * 1460));

        guest.Ack(window: 65000);
        guest.Data("a"u8);
        guest.Ack(window: 64000);
        harness.TakeSegments();
        guest.Ack();
        guest.Ack();

        Assert.Equal(0, harness.Counters.FastRetransmits);
        harness.AssertNothingSent();
    }

    [Fact]
    public void AHostReadFailureResetsTheGuest()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Host.Broken = true;
        guest.Host.Error = TcpHostError.Reset;

        harness.OnHost(guest.Host.Events.OnHostReadable);

        var reset = harness.TakeOne();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reset.Flags);
        Assert.Equal(guest.StackIsn + 1, reset.Sequence);
        Assert.Equal(guest.Next, reset.Acknowledgment);
        Assert.Equal(0, harness.Tcp.Count);
    }
}
