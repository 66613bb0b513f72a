using Usernet.Stack.Tcp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack.Tcp;

/// <summary>A published port accepted a host client: the stack opens the connection into the guest (SYN-SENT).</summary>
public sealed class TcpOpenToGuestTests
{
    /// <summary>The guest's server listens here; the client is a host address (as port publishing preserves it).</summary>
    private static TcpGuest Server(TcpHarness harness, uint isn = 5000) =>
        new(harness, new IpEndpoint(TestFrames.Guest, 8080), new IpEndpoint(Ipv4Address.Parse("198.18.0.9"), 51000), isn);

    [Fact]
    public void TheStackSendsASynWithItsMssAndWindowScale()
    {
        var harness = new TcpHarness();
        var guest = Server(harness);
        var syn = guest.AcceptFromStack();

        Assert.Equal(guest.Remote, syn.Source);
        Assert.Equal(guest.Local, syn.Destination);
        Assert.Equal(0u, syn.Acknowledgment);
        Assert.Equal(65535, syn.Window);
        Assert.Equal<ushort?>(1460, syn.Options.Mss);
        Assert.Equal((byte)TcpConnection.OurWindowShift, syn.Options.WindowScale);
        Assert.Equal(TcpState.SynSent, harness.Connection(guest.Key).State);
        Assert.Equal(1, harness.Tcp.Count);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0x7FFF_FF00u)]
    [InlineData(0x7FFF_FFFFu)]
    [InlineData(0x8000_0000u)]
    [InlineData(0xFFFF_FF00u)]
    [InlineData(0xFFFF_FFFFu)]
    public void GuestDataIsAcceptedWhateverTheGuestsIsn(uint isn)
    {
        // Regression: the receive window's edge was left at zero on our own opens, and an ISN
        // near 2^31 put every byte of the guest's outside it (fixed in 515e1d3).
        var harness = new TcpHarness();
        var guest = Server(harness, isn);
        guest.AcceptFromStack();
        guest.SynAck();
        var ack = harness.TakeOne();
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Assert.Equal(isn + 1, ack.Acknowledgment);

        // 300 bytes: across the wrap of 2^32 for the ISNs near it.
        byte[] first = TcpHarness.Bytes(300);
        byte[] second = TcpHarness.Bytes(300, start: 300);
        guest.Data(first);
        guest.Data(second);

        Assert.Equal([.. first, .. second], guest.Host.Written);
        Assert.Equal(isn + 601, harness.TakeSegments()[^1].Acknowledgment);
        Assert.Equal(0, harness.Counters.OutOfWindow);
    }

    [Fact]
    public void ALaterOpenOnTheSameAddressesStartsAfterTheEarlierOne()
    {
        // RFC 6528: the ISN moves with a 4-µs clock, so that a guest holding the earlier
        // connection in TIME-WAIT takes the later SYN for a new connection (RFC 9293 §3.6.1).
        var earlier = new TcpHarness();
        uint first = Server(earlier).AcceptFromStack().Sequence;
        var later = new TcpHarness();
        later.Advance(TimeSpan.FromSeconds(1));
        uint second = Server(later).AcceptFromStack().Sequence;
        Assert.Equal(250_000u, unchecked(second - first));
    }

    [Fact]
    public void AnAckOfNothingWeSentIsAnsweredWithAResetAtItsNumber()
    {
        // The guest's TIME-WAIT answers our SYN with its old connection's ACK: RFC 9293
        // §3.10.7.3's <SEQ=SEG.ACK><CTL=RST> ends it, and our next SYN opens the connection.
        var harness = new TcpHarness();
        var guest = Server(harness);
        guest.AcceptFromStack();

        guest.Send(TcpFlags.Ack, seq: 777_000, ack: guest.StackIsn - 5000);

        var reset = harness.TakeOne();
        Assert.Equal(TcpFlags.Rst, reset.Flags);
        Assert.Equal(guest.StackIsn - 5000, reset.Sequence);
        Assert.Equal(TcpState.SynSent, harness.Connection(guest.Key).State);
        guest.SynAck();
        Assert.Equal(TcpState.Established, harness.Connection(guest.Key).State);
    }

    [Fact]
    public void ARetransmittedSynAckIsAcknowledgedAgain()
    {
        // Our ACK of the guest's SYN-ACK was lost: the guest resends it, and must hear again.
        var harness = new TcpHarness();
        var guest = Server(harness);
        guest.AcceptFromStack();
        guest.SynAck();
        harness.TakeSegments();

        guest.Send(TcpFlags.Syn | TcpFlags.Ack, seq: guest.Isn, options: TcpSynOptionBytes.Build());

        var ack = harness.TakeOne();
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Assert.Equal(guest.Isn + 1, ack.Acknowledgment);
        Assert.Equal(TcpState.Established, harness.Connection(guest.Key).State);
    }

    [Fact]
    public void HostDataWaitingBeforeTheHandshakeGoesOutOnceItCompletes()
    {
        var harness = new TcpHarness();
        var guest = Server(harness);
        guest.AcceptFromStack();
        guest.Host.PeerSends("hello"u8);

        guest.SynAck();

        var segments = harness.TakeSegments();
        var data = Assert.Single(segments, s => s.Payload.Length > 0);
        Assert.Equal("hello"u8.ToArray(), data.Payload);
        Assert.Equal(guest.StackIsn + 1, data.Sequence);
    }

    [Fact]
    public void TheWindowOfTheGuestsSynAckIsNotScaled()
    {
        // RFC 7323 §2.2: the window field of a SYN or SYN-ACK is never scaled. A guest that
        // offers 65535 bytes with shift 7 must not be sent 8 MB.
        var harness = new TcpHarness();
        var guest = Server(harness);
        guest.AcceptFromStack();
        guest.Host.PeerSends(TcpHarness.Bytes(200_000));

        guest.SynAck(TcpSynOptionBytes.Build(windowScale: 7));

        int sent = harness.TakeSegments().Sum(s => s.Payload.Length);
        Assert.Equal(65535, sent);
    }

    [Fact]
    public void WithoutTheGuestsWindowScaleOurWindowIsNotScaledEither()
    {
        var harness = new TcpHarness();
        var guest = Server(harness);
        guest.AcceptFromStack();

        guest.SynAck(TcpSynOptionBytes.Build(windowScale: null));

        // Unscaled, the window is capped at the field's 65535.
        Assert.Equal(65535, harness.TakeOne().Window);
    }

    [Fact]
    public void OurWindowIsScaledWhenTheGuestScalesToo()
    {
        var harness = new TcpHarness();
        var guest = Server(harness);
        guest.AcceptFromStack();

        guest.SynAck(TcpSynOptionBytes.Build(windowScale: 2));

        // The host socket has room for more than the largest window: that, in units of 2^7.
        Assert.Equal(new TcpOptions().MaxReceiveWindow >> TcpConnection.OurWindowShift, harness.TakeOne().Window);
    }

    [Fact]
    public void TheGuestsResetToOurSynResetsTheHostClient()
    {
        var harness = new TcpHarness();
        var guest = Server(harness);
        guest.AcceptFromStack();

        // A closed port: Linux answers <SEQ=0><ACK=ISS+1><CTL=RST,ACK>.
        guest.Send(TcpFlags.Rst | TcpFlags.Ack, seq: 0, ack: guest.StackIsn + 1);

        Assert.True(guest.Host.ClosedWithReset);
        Assert.Equal(0, harness.Tcp.Count);
        Assert.Equal(1, harness.Counters.ResetsFromGuest);
        harness.AssertNothingSent();
    }

    [Fact]
    public void AResetThatDoesNotAcknowledgeOurSynIsIgnored()
    {
        var harness = new TcpHarness();
        var guest = Server(harness);
        guest.AcceptFromStack();

        guest.Send(TcpFlags.Rst | TcpFlags.Ack, seq: 0, ack: guest.StackIsn + 7);

        Assert.False(guest.Host.IsClosed);
        Assert.Equal(TcpState.SynSent, harness.Connection(guest.Key).State);
    }

    [Fact]
    public void ASynAckForAnotherSynIsIgnored()
    {
        var harness = new TcpHarness();
        var guest = Server(harness);
        guest.AcceptFromStack();

        guest.Send(TcpFlags.Syn | TcpFlags.Ack, seq: guest.Isn, ack: guest.StackIsn + 2, options: TcpSynOptionBytes.Build());

        Assert.Equal(TcpState.SynSent, harness.Connection(guest.Key).State);
        Assert.Equal(0, harness.Counters.Opened);
    }

    [Fact]
    public void OurSynIsSentAgainWithExponentialBackoff()
    {
        var harness = new TcpHarness();
        var guest = Server(harness);
        var syn = guest.AcceptFromStack();

        foreach (int seconds in new[] { 1, 2, 4, 8, 16 })
        {
            harness.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(1));
            harness.AssertNothingSent();
            harness.Advance(TimeSpan.FromMilliseconds(1));
            var again = harness.TakeOne();
            Assert.Equal(TcpFlags.Syn, again.Flags);
            Assert.Equal(syn.Sequence, again.Sequence);
        }
        Assert.Equal(5, harness.Counters.Retransmits);
    }

    [Fact]
    public void AGuestThatNeverAnswersOurSynIsGivenUpAndTheHostClientReset()
    {
        var harness = new TcpHarness(new TcpOptions { MaxRetransmits = 2 });
        var guest = Server(harness);
        guest.AcceptFromStack();

        harness.Advance(TimeSpan.FromSeconds(1 + 2));
        Assert.Equal(2, harness.TakeSegments().Count);
        Assert.False(guest.Host.IsClosed);

        harness.Advance(TimeSpan.FromSeconds(4));
        Assert.True(guest.Host.ClosedWithReset);
        Assert.Equal(0, harness.Tcp.Count);
        // RFC 9293 §3.10.5: no RST for a SYN the guest never answered.
        harness.AssertNothingSent();
    }

    [Fact]
    public void AConnectionThatExistsAlreadyIsNotOpenedAgain()
    {
        var harness = new TcpHarness();
        var guest = Server(harness);
        guest.AcceptFromStack();

        bool attached = false;
        var second = harness.Tcp.OpenToGuest(guest.Local, guest.Remote, events =>
        {
            attached = true;
            return new FakeTcpHostSocket(events);
        }, harness.Now);

        Assert.Null(second);
        Assert.False(attached);
        Assert.True(harness.Tcp.Exists(guest.Local, guest.Remote));
    }

    [Fact]
    public void NoConnectionIsOpenedBeyondTheInboundLimit()
    {
        var harness = new TcpHarness(new TcpOptions { MaxInboundConnections = 1 });
        Server(harness).AcceptFromStack();

        var other = new IpEndpoint(Ipv4Address.Parse("198.18.0.9"), 51001);
        Assert.Null(harness.Tcp.OpenToGuest(new IpEndpoint(TestFrames.Guest, 8080), other, events => new FakeTcpHostSocket(events), harness.Now));
        Assert.Equal(1, harness.Counters.InboundLimitReached);
        harness.AssertNothingSent();
    }

    [Fact]
    public void TheHostSocketIsToldOnceWhenTheGuestAcceptsBeforeAnyDataMoves()
    {
        var harness = new TcpHarness();
        var guest = Server(harness);
        guest.AcceptFromStack();
        Assert.Equal(0, guest.Host.GuestAccepts);

        // The SYN-ACK carries no data, and the guest's first data follows it: the fake asserts
        // nothing was written before it was told.
        guest.SynAck();
        Assert.Equal(1, guest.Host.GuestAccepts);
        guest.Data(TcpHarness.Bytes(10));
        Assert.Equal(TcpHarness.Bytes(10), guest.Host.Written);
        guest.SynAck();
        Assert.Equal(1, guest.Host.GuestAccepts);
    }

    [Fact]
    public void AGuestThatRefusesIsNeverSaidToHaveAccepted()
    {
        var harness = new TcpHarness();
        var guest = Server(harness);
        guest.AcceptFromStack();
        guest.Send(TcpFlags.Rst | TcpFlags.Ack, seq: 0, ack: guest.StackIsn + 1);
        Assert.Equal(0, guest.Host.GuestAccepts);
        Assert.True(guest.Host.IsClosed);
        Assert.Equal(0, harness.Tcp.Count);
    }
}
