using Usernet.Stack;
using Usernet.Stack.Tcp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack.Tcp;

/// <summary>Resets both ways, RFC 5961's checks on the guest's, and answers to segments of no connection.</summary>
public sealed class TcpResetTests
{
    private static TcpGuest Connected(TcpHarness harness)
    {
        var guest = new TcpGuest(harness);
        guest.Connect();
        return guest;
    }

    [Fact]
    public void AGuestResetClosesTheHostSocketWithReset()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);

        guest.Rst();

        Assert.True(guest.Host.ClosedWithReset);
        Assert.Equal(0, harness.Tcp.Count);
        Assert.Equal(1, harness.Counters.ResetsFromGuest);
        harness.AssertNothingSent();
    }

    [Fact]
    public void AGuestResetInsideTheWindowButNotAtItsStartGetsAChallengeAck()
    {
        // RFC 5961 §3.2: a blind attacker must hit RCV.NXT exactly; anything else in the window
        // makes us ask, and the real guest answers a challenge ACK with a RST that fits.
        var harness = new TcpHarness();
        var guest = Connected(harness);

        guest.Rst(seq: guest.Next + 100);

        var challenge = harness.TakeOne();
        Assert.Equal(TcpFlags.Ack, challenge.Flags);
        Assert.Equal(guest.Next, challenge.Acknowledgment);
        Assert.Equal(1, harness.Counters.ChallengeAcks);
        Assert.False(guest.Host.IsClosed);
        Assert.Equal(1, harness.Tcp.Count);
    }

    [Theory]
    [InlineData(-1000)]
    [InlineData(-1)]
    [InlineData(0x1000_0000)]
    public void AGuestResetOutsideTheWindowIsIgnored(int offset)
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);

        guest.Rst(seq: (uint)(guest.Next + offset));

        harness.AssertNothingSent();
        Assert.False(guest.Host.IsClosed);
        Assert.Equal(1, harness.Tcp.Count);
    }

    [Fact]
    public void AHostResetBecomesAResetToTheGuest()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Host.Error = TcpHostError.Reset;

        harness.OnHost(now => guest.Host.Events.OnHostFailed(TcpHostError.Reset, now));

        var reset = harness.TakeOne();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reset.Flags);
        Assert.Equal(guest.StackIsn + 1, reset.Sequence);
        Assert.Equal(guest.Next, reset.Acknowledgment);
        Assert.Equal(0, harness.Tcp.Count);
        Assert.Equal(1, harness.Counters.ResetsFromHost);
        Assert.True(guest.Host.IsClosed);
    }

    [Fact]
    public void AHostResetAfterDataInFlightCarriesOurNextSequenceNumber()
    {
        var harness = new TcpHarness();
        var guest = Connected(harness);
        guest.Host.PeerSends(TcpHarness.Bytes(500));
        harness.OnHost(guest.Host.Events.OnHostReadable);
        harness.TakeSegments();

        harness.OnHost(now => guest.Host.Events.OnHostFailed(TcpHostError.Reset, now));

        Assert.Equal(guest.StackIsn + 501, harness.TakeOne().Sequence);
    }

    [Fact]
    public void ASynOnAnEstablishedConnectionGetsAChallengeAck()
    {
        // RFC 5961 §4: it might be a blind attack; a guest that really restarted answers with RST.
        var harness = new TcpHarness();
        var guest = Connected(harness);

        guest.Send(TcpFlags.Syn, seq: guest.Next, ack: 0, options: TcpSynOptionBytes.Build());

        var challenge = harness.TakeOne();
        Assert.Equal(TcpFlags.Ack, challenge.Flags);
        Assert.Equal(guest.Next, challenge.Acknowledgment);
        Assert.Equal(1, harness.Counters.ChallengeAcks);
        Assert.Single(harness.Connector.Attempts);
        Assert.Equal(TcpState.Established, harness.Connection(guest.Key).State);
    }

    public static TheoryData<string, byte, int> StraySegments => new()
    {
        // RFC 9293 §3.10.7.1: with ACK, <SEQ=SEG.ACK><CTL=RST>; without, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
        { "ACK", (byte)TcpFlags.Ack, 0 },
        { "data with ACK", (byte)(TcpFlags.Ack | TcpFlags.Psh), 10 },
        { "SYN-ACK", (byte)(TcpFlags.Syn | TcpFlags.Ack), 0 },
        { "FIN", (byte)TcpFlags.Fin, 0 },
        { "data without ACK", (byte)TcpFlags.Psh, 10 },
        { "no flags", (byte)TcpFlags.None, 0 },
    };

    [Theory]
    [MemberData(nameof(StraySegments))]
    public void ASegmentOfNoConnectionIsAnsweredWithReset(string description, byte flagBits, int payloadLength)
    {
        var flags = (TcpFlags)flagBits;
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        const uint seq = 5000;
        const uint ack = 7000;

        guest.Send(flags, new byte[payloadLength], seq: seq, ack: ack);

        var reset = harness.TakeOne();
        if ((flags & TcpFlags.Ack) != 0)
        {
            Assert.Equal(TcpFlags.Rst, reset.Flags);
            Assert.Equal(ack, reset.Sequence);
        }
        else
        {
            uint length = (uint)payloadLength + ((flags & TcpFlags.Fin) != 0 ? 1u : 0u);
            Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reset.Flags);
            Assert.Equal(0u, reset.Sequence);
            Assert.Equal(seq + length, reset.Acknowledgment);
        }
        Assert.True(harness.StackCounters.Dropped(DropReason.TcpNoFlow) == 1, description);
        Assert.Empty(harness.Connector.Attempts);
        Assert.Equal(0, harness.Tcp.Count);
    }

    [Fact]
    public void AResetOfNoConnectionIsNotAnswered()
    {
        var harness = new TcpHarness();
        new TcpGuest(harness).Rst();

        harness.AssertNothingSent();
        Assert.Equal(1, harness.StackCounters.Dropped(DropReason.TcpNoFlow));
    }

    [Fact]
    public void AGuestThatGoesAwayTakesItsConnectionsWithIt()
    {
        var harness = new TcpHarness();
        var first = new TcpGuest(harness, new IpEndpoint(TestFrames.Guest, 40001), TcpHarness.Remote);
        var second = new TcpGuest(harness, new IpEndpoint(TestFrames.Guest, 40002), TcpHarness.Remote);
        first.Connect();
        second.Syn();

        harness.Tcp.AbortGuest(TestFrames.Guest);

        Assert.True(first.Host.ClosedWithReset);
        Assert.True(second.Host.ClosedWithReset);
        Assert.Equal(0, harness.Tcp.Count);
    }
}
