using System.Buffers.Binary;
using Usernet.Stack;
using Usernet.Stack.Tcp;
using Usernet.Tests.Support;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Stack.Tcp;

/// <summary>A guest opens a connection: the host socket connects first, then the guest gets its SYN-ACK, RST or ICMP.</summary>
public sealed class TcpHandshakeTests
{
    [Fact]
    public void AGuestSynStartsOneHostConnectToItsDestination()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Syn();

        var attempt = Assert.Single(harness.Connector.Attempts);
        Assert.Equal(guest.Key, attempt.Flow);
        Assert.Equal(TcpHarness.Remote, attempt.Destination);
        Assert.Equal(1, harness.Tcp.Count);
        Assert.Equal(TcpState.HostConnecting, harness.Connection(guest.Key).State);
    }

    [Fact]
    public void TheGuestHearsNothingUntilTheHostConnectCompletes()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Syn();
        harness.Advance(TimeSpan.FromSeconds(10));

        harness.AssertNothingSent();
        harness.OnHost(guest.Host.Events.OnHostConnected);
        var synAck = harness.TakeOne();
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(guest.Isn + 1, synAck.Acknowledgment);
        Assert.Equal(TcpHarness.Remote, synAck.Source);
        Assert.Equal(guest.Local, synAck.Destination);
    }

    [Fact]
    public void TheSynAckCarriesTheLinkMssAndOurWindowScaleButNoSack()
    {
        var harness = new TcpHarness();
        var synAck = new TcpGuest(harness).Connect(TcpSynOptionBytes.Build(mss: 1460, sackPermitted: true, windowScale: 7));

        Assert.Equal<ushort?>(1460, synAck.Options.Mss);
        Assert.Equal((byte)TcpConnection.OurWindowShift, synAck.Options.WindowScale);
        // No SACK here: the engine keeps no out-of-order data to select from.
        Assert.False(synAck.Options.SackPermitted);
        // A SYN's window is never scaled (RFC 7323 §2.2): the largest unscaled one.
        Assert.Equal(65535, synAck.Window);
        Assert.Empty(synAck.Payload);
    }

    [Fact]
    public void TheSynAckOffersNoWindowScaleWhenTheGuestOfferedNone()
    {
        var harness = new TcpHarness();
        var synAck = new TcpGuest(harness).Connect(TcpSynOptionBytes.Build(windowScale: null));

        Assert.Null(synAck.Options.WindowScale);
        Assert.Equal<ushort?>(1460, synAck.Options.Mss);
    }

    [Theory]
    [InlineData(1500, 1460)]
    [InlineData(9000, 8960)]
    [InlineData(65520, 65480)]
    public void TheSynAckMssIsTheLinkMtuLessTheHeaders(int linkMtu, int expectedMss)
    {
        var harness = new TcpHarness(linkMtu: linkMtu);
        // The guest's own MSS does not bound what we say we can receive.
        var synAck = new TcpGuest(harness).Connect(TcpSynOptionBytes.Build(mss: 536));

        Assert.Equal<ushort?>((ushort)expectedMss, synAck.Options.Mss);
    }

    [Fact]
    public void TheThirdAckEstablishesTheConnection()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Connect();

        Assert.Equal(TcpState.Established, harness.Connection(guest.Key).State);
        Assert.Equal(1, harness.Counters.Opened);
        Assert.Equal(1, harness.Tcp.Count);
    }

    [Fact]
    public void DataOnTheThirdAckIsWrittenToTheHost()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Syn();
        var socket = guest.Host;
        harness.OnHost(socket.Events.OnHostConnected);
        guest.Acked = harness.TakeOne().Sequence + 1;

        guest.Data("GET / HTTP/1.0\r\n\r\n"u8);

        Assert.Equal("GET / HTTP/1.0\r\n\r\n"u8.ToArray(), socket.Written);
        var ack = harness.TakeOne();
        Assert.Equal(guest.Next, ack.Acknowledgment);
    }

    [Fact]
    public void ARefusedConnectAnswersTheSynWithReset()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Syn();
        var socket = guest.Host;
        harness.OnHost(now => socket.Events.OnHostConnectFailed(TcpHostError.Refused, now));

        var reset = harness.TakeOne();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reset.Flags);
        Assert.Equal(0u, reset.Sequence);
        Assert.Equal(guest.Isn + 1, reset.Acknowledgment);
        Assert.Equal(0, harness.Tcp.Count);
        Assert.True(socket.ClosedWithReset);
        Assert.Equal(1, harness.Counters.Refused);
        Assert.Equal(1, harness.Counters.ResetsToGuest);
    }

    [Fact]
    public void AConnectThatFailsAtOnceAnswersTheSynWithReset()
    {
        var harness = new TcpHarness();
        harness.Connector.FailAtOnce = TcpHostError.Refused;
        var guest = new TcpGuest(harness);
        guest.Syn();

        var reset = harness.TakeOne();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reset.Flags);
        Assert.Equal(guest.Isn + 1, reset.Acknowledgment);
        Assert.Equal(0, harness.Tcp.Count);
        Assert.Equal(1, harness.Counters.Refused);
    }

    [Fact]
    public void AHostConnectTimeoutAnswersTheSynWithReset()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Syn();
        var socket = guest.Host;
        harness.OnHost(now => socket.Events.OnHostConnectFailed(TcpHostError.TimedOut, now));

        var reset = harness.TakeOne();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reset.Flags);
        Assert.Equal(guest.Isn + 1, reset.Acknowledgment);
        Assert.Equal(1, harness.Counters.ConnectTimeouts);
        Assert.Equal(0, harness.Tcp.Count);
    }

    [Fact]
    public void AConnectStillPendingAtTheConnectTimeoutIsAbandonedWithReset()
    {
        var options = new TcpOptions { ConnectTimeout = TimeSpan.FromSeconds(5) };
        var harness = new TcpHarness(options);
        var guest = new TcpGuest(harness);
        guest.Syn();
        var socket = guest.Host;

        harness.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        harness.AssertNothingSent();
        Assert.Equal(1, harness.Tcp.Count);

        harness.Advance(TimeSpan.FromMilliseconds(1));
        var reset = harness.TakeOne();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reset.Flags);
        Assert.Equal(guest.Isn + 1, reset.Acknowledgment);
        Assert.True(socket.ClosedWithReset);
        Assert.Equal(1, harness.Counters.ConnectTimeouts);
        Assert.Equal(0, harness.Tcp.Count);
    }

    [Theory]
    [InlineData(nameof(TcpHostError.NetUnreachable), IcmpV4Code.NetUnreachable)]
    [InlineData(nameof(TcpHostError.HostUnreachable), IcmpV4Code.HostUnreachable)]
    public void AnUnreachableHostAnswersTheSynWithIcmpQuotingIt(string hostError, byte expectedCode)
    {
        var error = Enum.Parse<TcpHostError>(hostError);
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness, isn: 0xDEADBEEF);
        guest.Syn();
        var socket = guest.Host;
        harness.OnHost(now => socket.Events.OnHostConnectFailed(error, now));

        byte[] frame = Assert.Single(harness.Sent.Take());
        var ip = Frames.Ipv4(frame);
        Assert.Equal(TestFrames.Gateway, ip.Source);
        Assert.Equal(TestFrames.Guest, ip.Destination);
        var icmp = Frames.Icmp(frame);
        Assert.Equal(IcmpV4Type.DestinationUnreachable, icmp.Type);
        Assert.Equal(expectedCode, icmp.Code);
        // The quote is the SYN as the guest sent it: its addresses, then ports and sequence number.
        var quote = new Ipv4Packet(icmp.Payload);
        Assert.Equal(TestFrames.Guest, quote.Source);
        Assert.Equal(TcpHarness.Remote.Address.V4, quote.Destination);
        Assert.Equal(IpProtocol.Tcp, quote.Protocol);
        var ports = icmp.Payload[Ipv4Packet.MinHeaderLength..];
        Assert.Equal(guest.Local.Port, BinaryPrimitives.ReadUInt16BigEndian(ports));
        Assert.Equal(TcpHarness.Remote.Port, BinaryPrimitives.ReadUInt16BigEndian(ports[2..]));
        Assert.Equal(guest.Isn, BinaryPrimitives.ReadUInt32BigEndian(ports[4..]));
        Assert.Equal(1, harness.Counters.Unreachable);
        Assert.Equal(0, harness.Tcp.Count);
    }

    [Fact]
    public void AnUnreachableHostOverIpv6AnswersWithIcmpv6NoRoute()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness, TcpGuest.DefaultLocalV6, TcpHarness.RemoteV6);
        guest.Syn();
        var socket = guest.Host;
        harness.OnHost(now => socket.Events.OnHostConnectFailed(TcpHostError.NetUnreachable, now));

        byte[] frame = Assert.Single(harness.Sent.Take());
        Assert.True(EthernetFrame.TryParse(frame, out var ethernet));
        Assert.Equal(Ipv6ParseError.None, Ipv6Packet.TryParse(ethernet.Payload, out var ip));
        Assert.Equal(IpProtocol.Icmpv6, ip.NextHeader);
        Assert.Equal(guest.Local.Address.V6, ip.Destination);
        Assert.Equal(Icmpv6Type.DestinationUnreachable, ip.Payload[0]);
        Assert.Equal(Icmpv6Code.NoRoute, ip.Payload[1]);
        Assert.Equal(0, harness.Tcp.Count);
    }

    [Fact]
    public void AHandshakeOverIpv6CarriesTheIpv6Mss()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness, TcpGuest.DefaultLocalV6, TcpHarness.RemoteV6);
        var synAck = guest.Connect();

        Assert.Equal<ushort?>(1500 - 40 - 20, synAck.Options.Mss);
        Assert.Equal(TcpHarness.RemoteV6, synAck.Source);
        Assert.Equal(TcpState.Established, harness.Connection(guest.Key).State);
    }

    [Fact]
    public void ARetransmittedSynWhileConnectingOpensNoSecondHostSocket()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Syn();
        harness.Advance(TimeSpan.FromSeconds(1));
        guest.Syn();

        Assert.Single(harness.Connector.Attempts);
        Assert.Equal(1, harness.Tcp.Count);
        harness.AssertNothingSent();
    }

    [Fact]
    public void ARetransmittedSynAfterTheSynAckGetsTheSameSynAckAgain()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Syn();
        harness.OnHost(guest.Host.Events.OnHostConnected);
        var first = harness.TakeOne();

        guest.Syn();

        var again = harness.TakeOne();
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, again.Flags);
        Assert.Equal(first.Sequence, again.Sequence);
        Assert.Equal(first.Acknowledgment, again.Acknowledgment);
        Assert.Single(harness.Connector.Attempts);
    }

    [Fact]
    public void ASynWithANewIsnReplacesAHalfOpenConnection()
    {
        var harness = new TcpHarness();
        var abandoned = new TcpGuest(harness, isn: 1000);
        abandoned.Syn();
        var first = abandoned.Host;

        // The guest gave up on that attempt and reuses its port with a new ISN.
        var again = new TcpGuest(harness, isn: 500_000);
        again.Syn();

        Assert.True(first.ClosedWithReset);
        Assert.Equal(2, harness.Connector.Attempts.Count);
        Assert.Equal(1, harness.Tcp.Count);
        Assert.Equal(new SeqNumber(500_000), harness.Connection(again.Key).GuestInitialSequence);
    }

    [Fact]
    public void TheSynAckIsSentAgainWithBackoffUntilTheGuestAnswers()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Syn();
        harness.OnHost(guest.Host.Events.OnHostConnected);
        var synAck = harness.TakeOne();

        // RFC 6298: 1 s at first, then doubled after each timeout.
        foreach (int seconds in new[] { 1, 2, 4, 8 })
        {
            harness.Advance(TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(1));
            harness.AssertNothingSent();
            harness.Advance(TimeSpan.FromMilliseconds(1));
            var again = harness.TakeOne();
            Assert.Equal((synAck.Flags, synAck.Sequence, synAck.Acknowledgment, synAck.Options), (again.Flags, again.Sequence, again.Acknowledgment, again.Options));
        }
        Assert.Equal(4, harness.Counters.Retransmits);
    }

    [Fact]
    public void AGuestThatNeverAnswersTheSynAckIsGivenUpAndTheHostReset()
    {
        var options = new TcpOptions { MaxRetransmits = 3 };
        var harness = new TcpHarness(options);
        var guest = new TcpGuest(harness);
        guest.Syn();
        var socket = guest.Host;
        harness.OnHost(socket.Events.OnHostConnected);
        harness.TakeOne();

        harness.Advance(TimeSpan.FromSeconds(1 + 2 + 4));
        Assert.Equal(3, harness.TakeSegments().Count(s => s.Flags == (TcpFlags.Syn | TcpFlags.Ack)));
        Assert.Equal(1, harness.Tcp.Count);

        harness.Advance(TimeSpan.FromSeconds(8));
        var reset = harness.TakeOne();
        Assert.True(reset.Has(TcpFlags.Rst));
        Assert.True(socket.ClosedWithReset);
        Assert.Equal(0, harness.Tcp.Count);
    }

    [Fact]
    public void AHandshakeAckWithTheWrongNumberIsAnsweredWithReset()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Syn();
        harness.OnHost(guest.Host.Events.OnHostConnected);
        uint stackIsn = harness.TakeOne().Sequence;

        guest.Send(TcpFlags.Ack, ack: stackIsn + 100);

        // RFC 9293 §3.10.7.4: <SEQ=SEG.ACK><CTL=RST>, and the connection waits on.
        var reset = harness.TakeOne();
        Assert.Equal(TcpFlags.Rst, reset.Flags);
        Assert.Equal(stackIsn + 100, reset.Sequence);
        Assert.Equal(TcpState.SynReceived, harness.Connection(guest.Key).State);
    }

    [Fact]
    public void AGuestResetWhileConnectingAbandonsTheHostConnect()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Syn();
        var socket = guest.Host;

        guest.Rst();

        Assert.True(socket.ClosedWithReset);
        Assert.Equal(0, harness.Tcp.Count);
        Assert.Equal(1, harness.Counters.ResetsFromGuest);
        harness.AssertNothingSent();
    }

    [Fact]
    public void AGuestResetInSynReceivedClosesTheHostWithReset()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Syn();
        var socket = guest.Host;
        harness.OnHost(socket.Events.OnHostConnected);
        harness.TakeOne();

        guest.Rst();

        Assert.True(socket.ClosedWithReset);
        Assert.Equal(0, harness.Tcp.Count);
    }

    [Fact]
    public void ASynCarryingDataIsAnsweredWithoutAcknowledgingTheData()
    {
        // Without TCP Fast Open, Linux acknowledges only the SYN: the guest sends the data again.
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness);
        guest.Send(TcpFlags.Syn, "early"u8, seq: guest.Isn, ack: 0, options: TcpSynOptionBytes.Build());
        var socket = guest.Host;
        harness.OnHost(socket.Events.OnHostConnected);

        var synAck = harness.TakeOne();
        Assert.Equal(guest.Isn + 1, synAck.Acknowledgment);
        Assert.Empty(socket.Written);
    }

    [Fact]
    public void ASynToTheHostAddressConnectsToTheHostLoopback()
    {
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness, TcpGuest.DefaultLocal, new IpEndpoint(TestFrames.Host, 8080));
        guest.Syn();

        Assert.Equal(new IpEndpoint(Ipv4Address.Parse("127.0.0.1"), 8080), Assert.Single(harness.Connector.Attempts).Destination);
    }

    [Fact]
    public void ASynToTheHostAddressIsRefusedWhenHostLoopbackIsOff()
    {
        var harness = new TcpHarness(stackOptions: new StackOptions { HostLoopback = false });
        var guest = new TcpGuest(harness, TcpGuest.DefaultLocal, new IpEndpoint(TestFrames.Host, 8080));
        guest.Syn();

        Assert.Empty(harness.Connector.Attempts);
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, harness.TakeOne().Flags);
        Assert.Equal(1, harness.StackCounters.Dropped(DropReason.TcpRefused));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.53")]
    [InlineData("0.1.2.3")]
    [InlineData("::1")]
    public void ASynToTheHostsLoopbackNamedDirectlyIsRefused(string loopback)
    {
        // Forged: a guest's own loopback never leaves it. Only the host address leads there.
        var remote = new IpEndpoint(IpAddress.Parse(loopback), 8080);
        var harness = new TcpHarness();
        var guest = new TcpGuest(harness, remote.Address.IsV4 ? TcpGuest.DefaultLocal : TcpGuest.DefaultLocalV6, remote);
        guest.Syn();

        Assert.Empty(harness.Connector.Attempts);
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, harness.TakeOne().Flags);
        Assert.Equal(1, harness.StackCounters.Dropped(DropReason.TcpRefused));
    }

    [Fact]
    public void ASynToAGatewayPortIsCarriedOnlyWhenUsernetServesIt()
    {
        var harness = new TcpHarness();
        harness.Connector.GatewayPorts.Add(53);
        new TcpGuest(harness, TcpGuest.DefaultLocal, new IpEndpoint(TestFrames.Gateway, 53)).Syn();
        Assert.Equal(new IpEndpoint(TestFrames.Gateway, 53), Assert.Single(harness.Connector.Attempts).Destination);

        new TcpGuest(harness, TcpGuest.DefaultLocal, new IpEndpoint(TestFrames.Gateway, 22)).Syn();
        Assert.Single(harness.Connector.Attempts);
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, harness.TakeOne().Flags);
    }

    [Fact]
    public void ASynBeyondTheConnectionLimitIsRefusedAndCounted()
    {
        var harness = new TcpHarness(new TcpOptions { MaxConnections = 2 });
        new TcpGuest(harness, new IpEndpoint(TestFrames.Guest, 40001), TcpHarness.Remote).Syn();
        new TcpGuest(harness, new IpEndpoint(TestFrames.Guest, 40002), TcpHarness.Remote).Syn();
        var third = new TcpGuest(harness, new IpEndpoint(TestFrames.Guest, 40003), TcpHarness.Remote);
        third.Syn();

        var reset = harness.TakeOne();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, reset.Flags);
        Assert.Equal(third.Isn + 1, reset.Acknowledgment);
        Assert.Equal(2, harness.Connector.Attempts.Count);
        Assert.Equal(2, harness.Tcp.Count);
        Assert.Equal(1, harness.Counters.LimitReached);
        Assert.Equal(1, harness.StackCounters.Dropped(DropReason.TcpLimit));
    }
}
