using Usernet.Stack.Tcp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack.Tcp;

/// <summary>
/// RFC 1122 §4.2.3.6: an idle connection is probed; a guest that answers none of the probes
/// is gone, and its connection is closed. A live idle connection is never closed.
/// </summary>
public sealed class TcpKeepaliveTests
{
    private static readonly TcpOptions Options = new()
    {
        KeepaliveIdle = TimeSpan.FromSeconds(10),
        KeepaliveInterval = TimeSpan.FromSeconds(2),
        KeepaliveCount = 3,
    };

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    private static TcpGuest Connected(TcpHarness harness)
    {
        var guest = new TcpGuest(harness);
        guest.Connect();
        return guest;
    }

    private static void AssertProbe(TcpGuest guest, SentSegment probe)
    {
        Assert.Equal(TcpFlags.Ack, probe.Flags);
        Assert.Equal(guest.StackIsn, probe.Sequence);
        Assert.Equal(guest.Next, probe.Acknowledgment);
        Assert.Empty(probe.Payload);
    }

    [Fact]
    public void AnIdleGuestIsProbedAfterTheIdleTime()
    {
        var harness = new TcpHarness(Options);
        var guest = Connected(harness);

        harness.Advance(Options.KeepaliveIdle - Tick);
        harness.AssertNothingSent();
        harness.Advance(Tick);

        AssertProbe(guest, harness.TakeOne());
        Assert.Equal(1, harness.Counters.KeepaliveProbes);
    }

    [Fact]
    public void UnansweredProbesRepeatAtTheIntervalThenTheConnectionIsClosed()
    {
        var harness = new TcpHarness(Options);
        var guest = Connected(harness);
        harness.Advance(Options.KeepaliveIdle);
        harness.TakeOne();

        for (int probe = 2; probe <= Options.KeepaliveCount; probe++)
        {
            harness.Advance(Options.KeepaliveInterval - Tick);
            harness.AssertNothingSent();
            harness.Advance(Tick);
            AssertProbe(guest, harness.TakeOne());
        }
        harness.Advance(Options.KeepaliveInterval);

        // The guest is gone: nothing to tell it; the host peer sees RST.
        harness.AssertNothingSent();
        Assert.True(guest.Host.ClosedWithReset);
        Assert.Equal(0, harness.Tcp.Count);
        Assert.Equal(1, harness.Counters.KeepaliveTimeouts);
    }

    [Fact]
    public void AnAnsweredProbeKeepsTheConnectionAndRestartsTheIdleTime()
    {
        var harness = new TcpHarness(Options);
        var guest = Connected(harness);

        for (int round = 0; round < 5; round++)
        {
            harness.Advance(Options.KeepaliveIdle);
            harness.TakeOne();
            guest.Ack();
        }

        harness.Advance(Options.KeepaliveIdle - Tick);
        harness.AssertNothingSent();
        Assert.Equal(1, harness.Tcp.Count);
        Assert.Equal(0, harness.Counters.KeepaliveTimeouts);
    }

    [Fact]
    public void AnyGuestSegmentPostponesTheProbe()
    {
        var harness = new TcpHarness(Options);
        var guest = Connected(harness);
        harness.Advance(TimeSpan.FromSeconds(6));
        guest.Data("x"u8);
        harness.TakeSegments();

        harness.Advance(Options.KeepaliveIdle - Tick);
        harness.AssertNothingSent();
        harness.Advance(Tick);
        AssertProbe(guest, harness.TakeOne());
    }

    [Fact]
    public void NoProbeGoesOutWhileDataIsInFlight()
    {
        var harness = new TcpHarness(Options);
        var guest = Connected(harness);
        guest.Host.PeerSends(TcpHarness.Bytes(100));
        harness.OnHost(guest.Host.Events.OnHostReadable);
        harness.TakeSegments();

        harness.Advance(Options.KeepaliveIdle * 2);

        // The retransmission timer watches the guest instead: only the data goes out again.
        var sent = harness.TakeSegments();
        Assert.NotEmpty(sent);
        Assert.All(sent, s => Assert.Equal(100, s.Payload.Length));
        Assert.Equal(0, harness.Counters.KeepaliveProbes);
    }

    [Fact]
    public void AHalfClosedConnectionInFinWait2IsProbedToo()
    {
        var harness = new TcpHarness(Options);
        var guest = Connected(harness);
        guest.Host.PeerCloses();
        harness.OnHost(guest.Host.Events.OnHostReadable);
        harness.TakeSegments();
        guest.AckMore(1);
        Assert.Equal(TcpState.FinWait2, harness.Connection(guest.Key).State);

        harness.Advance(Options.KeepaliveIdle + Options.KeepaliveInterval * Options.KeepaliveCount);

        Assert.Equal(Options.KeepaliveCount, harness.TakeSegments().Count);
        Assert.Equal(0, harness.Tcp.Count);
    }

    [Fact]
    public void AGuestThatVanishesBehindAZeroWindowIsClosedByKeepalive()
    {
        var harness = new TcpHarness(Options);
        var guest = Connected(harness);
        guest.Ack(window: 0);
        guest.Host.PeerSends(TcpHarness.Bytes(100));
        harness.OnHost(guest.Host.Events.OnHostReadable);

        harness.Advance(Options.KeepaliveIdle + Options.KeepaliveInterval * Options.KeepaliveCount);

        Assert.True(harness.Counters.WindowProbes > 0);
        Assert.Equal(1, harness.Counters.KeepaliveTimeouts);
        Assert.Equal(0, harness.Tcp.Count);
    }
}
