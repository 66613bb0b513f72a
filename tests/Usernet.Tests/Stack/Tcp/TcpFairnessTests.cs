using Usernet.Stack.Tcp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack.Tcp;

/// <summary>
/// One connection cannot take the loop from the others: a guest's tiny MSS is raised to a
/// floor, and a connection sends at most <see cref="TcpOptions.SegmentsPerCall"/> segments in
/// one call, the rest on the loop's next turn, which comes without any other event.
/// </summary>
public sealed class TcpFairnessTests
{
    private static readonly int Quota = new TcpOptions().SegmentsPerCall;

    /// <summary>The host peer sends <paramref name="data"/>; returns what the stack sent on in that call.</summary>
    private static List<SentSegment> HostSends(TcpHarness harness, TcpGuest guest, byte[] data)
    {
        guest.Host.PeerSends(data);
        harness.OnHost(guest.Host.Events.OnHostReadable);
        return harness.TakeSegments();
    }

    [Theory]
    [InlineData((ushort)1)]
    [InlineData((ushort)88)]
    [InlineData((ushort)535)]
    public void ATinyMssIsRaisedToTheIpv4Floor(ushort mss)
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Connect(TcpSynOptionBytes.Build(mss: mss));

        var segments = HostSends(harness, guest, TcpHarness.Bytes(1200));

        Assert.Equal([TcpConnection.MinMssV4, TcpConnection.MinMssV4, 1200 - 2 * TcpConnection.MinMssV4], segments.Select(s => s.Payload.Length));
        Assert.Equal(1, harness.Counters.MssRaised);
    }

    [Fact]
    public void ATinyMssIsRaisedToTheIpv6Floor()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness, TcpGuest.DefaultLocalV6, TcpHarness.RemoteV6);
        guest.Connect(TcpSynOptionBytes.Build(mss: 1));

        var segments = HostSends(harness, guest, TcpHarness.Bytes(3000));

        Assert.Equal([1220, 1220, 560], segments.Select(s => s.Payload.Length));
        Assert.Equal(1, harness.Counters.MssRaised);
    }

    [Fact]
    public void AnMssAtTheFloorIsKeptAndNotCounted()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Connect(TcpSynOptionBytes.Build(mss: 536));

        var segments = HostSends(harness, guest, TcpHarness.Bytes(600));

        Assert.Equal([536, 64], segments.Select(s => s.Payload.Length));
        Assert.Equal(0, harness.Counters.MssRaised);
    }

    [Fact]
    public void WithoutAnMssOptionIpv6AssumesItsDefault()
    {
        // RFC 9293 §3.7.1: 1220 for IPv6 (536 is IPv4's).
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness, TcpGuest.DefaultLocalV6, TcpHarness.RemoteV6);
        guest.Connect(TcpSynOptionBytes.Build(mss: null));

        var segments = HostSends(harness, guest, TcpHarness.Bytes(1300));

        Assert.Equal([1220, 80], segments.Select(s => s.Payload.Length));
        Assert.Equal(0, harness.Counters.MssRaised);
    }

    [Fact]
    public void AGuestsTinyMssInItsSynAckIsRaisedOnAPublishedPort()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness, new IpEndpoint(TestFrames.Guest, 8080), new IpEndpoint(Ipv4Address.Parse("198.18.0.9"), 51000));
        guest.AcceptFromStack();
        guest.SynAck(TcpSynOptionBytes.Build(mss: 1));
        harness.TakeSegments();

        var segments = HostSends(harness, guest, TcpHarness.Bytes(1000));

        Assert.Equal([536, 464], segments.Select(s => s.Payload.Length));
        Assert.Equal(1, harness.Counters.MssRaised);
    }

    [Fact]
    public void AFloorAboveTheLinksMssGivesWayToTheLink()
    {
        // A 1000-byte IPv6 link cannot exist (RFC 8200 §5, and the settings refuse it), but
        // were one there, segments must still fit it.
        var harness = new TcpHarness(linkMtu: 1000);
        var guest = new TcpGuest(harness, TcpGuest.DefaultLocalV6, TcpHarness.RemoteV6);
        guest.Connect(TcpSynOptionBytes.Build(mss: 1));

        var segments = HostSends(harness, guest, TcpHarness.Bytes(1000));

        Assert.Equal([940, 60], segments.Select(s => s.Payload.Length));
    }

    [Fact]
    public void AConnectionWithAHugeWindowYieldsAfterItsQuotaAndResumesOnTheNextTurn()
    {
        var harness = new TcpHarness();
        // 65535 << 7: 8 MiB of window, more than all the data.
        var guest = new TcpGuest(harness);
        guest.Connect();
        byte[] data = TcpHarness.Bytes(Quota * 1460 * 2 + 1000);

        var first = HostSends(harness, guest, data);

        Assert.Equal(Quota, first.Count);
        Assert.Equal(1, harness.Counters.Yields);
        // No new event from the host or the guest: the loop's next turn carries it on.
        harness.NextTurn();
        var second = harness.TakeSegments();
        Assert.Equal(Quota, second.Count);
        harness.NextTurn();
        var third = harness.TakeSegments();
        Assert.Equal([1000], third.Select(s => s.Payload.Length));
        harness.NextTurn();
        harness.AssertNothingSent();
        Assert.Equal(data, first.Concat(second).Concat(third).SelectMany(s => s.Payload));
        Assert.Equal(guest.StackIsn + 1 + (uint)(Quota * 1460), second[0].Sequence);
        Assert.Equal(2, harness.Counters.Yields);
    }

    [Fact]
    public void AYieldedConnectionWaitsForTheNextTurnAndDoesNotRunAgainInThisOne()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Connect();
        HostSends(harness, guest, TcpHarness.Bytes(Quota * 1460 * 4));

        // Time stands still: the turn that is due now has not come.
        harness.Advance(TimeSpan.Zero);
        harness.AssertNothingSent();
        // Each later turn sends one quota, never more.
        for (int turn = 0; turn < 3; turn++)
        {
            harness.NextTurn();
            Assert.Equal(Quota, harness.TakeSegments().Count);
        }
    }

    [Fact]
    public void AnotherConnectionIsServedWhileOneWaitsForItsTurn()
    {
        var harness = new TcpHarness();
        var bulk = new TcpGuest(harness, new IpEndpoint(TestFrames.Guest, 40001), TcpHarness.Remote);
        var other = new TcpGuest(harness, new IpEndpoint(TestFrames.Guest, 40002), TcpHarness.Remote);
        bulk.Connect();
        other.Connect();
        Assert.Equal(Quota, HostSends(harness, bulk, TcpHarness.Bytes(Quota * 1460 * 10)).Count);

        var others = HostSends(harness, other, TcpHarness.Bytes(100));

        Assert.Equal(other.Key.Guest, Assert.Single(others).Destination);
        harness.NextTurn();
        Assert.All(harness.TakeSegments(), s => Assert.Equal(bulk.Key.Guest, s.Destination));
    }

    [Fact]
    public void AGuestAckThatOpensTheWindowAlsoSendsOneQuotaAtMost()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Connect();
        // A closed window holds the data back until the ACK that opens it.
        guest.Ack(window: 0);
        Assert.Empty(HostSends(harness, guest, TcpHarness.Bytes(Quota * 1460 * 3)));

        guest.Ack(window: 65535);

        Assert.Equal(Quota, harness.TakeSegments().Count);
        harness.NextTurn();
        Assert.Equal(Quota, harness.TakeSegments().Count);
    }

    [Fact]
    public void AConnectionThatEndsWhileWaitingForItsTurnSendsNothingMore()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Connect();
        HostSends(harness, guest, TcpHarness.Bytes(Quota * 1460 * 3));

        guest.Rst();
        harness.AssertNothingSent();
        Assert.True(guest.Host.IsClosed);

        // The fake socket fails the test if the connection peeks at it after it closed.
        harness.NextTurn();
        harness.AssertNothingSent();
        Assert.Equal(0, harness.Tcp.Count);
    }

    [Fact]
    public void ARetransmissionAfterATimeoutIsBoundedToo()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Connect();
        byte[] data = TcpHarness.Bytes(Quota * 1460 * 2);
        HostSends(harness, guest, data);
        harness.NextTurn();
        Assert.Equal(Quota, harness.TakeSegments().Count);

        // Nothing is acknowledged: the timeout (the minimum RTO after a handshake without
        // delay) sends everything again from the oldest byte, one quota per turn (go-back-N).
        harness.RunUntil(TcpHarness.Start + new TcpOptions().MinRto);
        var again = harness.TakeSegments();
        Assert.Equal(Quota, again.Count);
        Assert.Equal(guest.StackIsn + 1, again[0].Sequence);
        harness.NextTurn();
        Assert.Equal(Quota, harness.TakeSegments().Count);
    }
}
