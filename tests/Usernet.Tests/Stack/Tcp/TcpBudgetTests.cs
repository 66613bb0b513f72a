using Usernet.Stack;
using Usernet.Stack.Tcp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack.Tcp;

/// <summary>
/// Connections the guests open and connections remote clients open through published ports
/// have budgets of their own: filling one never refuses the other, and each refusal is
/// counted where it belongs.
/// </summary>
public sealed class TcpBudgetTests
{
    private static readonly IpEndpoint GuestServer = new(TestFrames.Guest, 8080);

    private static IpEndpoint Client(int i) => new(Ipv4Address.Parse("198.18.0.9"), (ushort)(51000 + i));

    private static TcpGuest GuestClient(TcpHarness harness, int i) =>
        new(harness, new IpEndpoint(TestFrames.Guest, (ushort)(40000 + i)), TcpHarness.Remote);

    private static TcpConnection? Inbound(TcpHarness harness, int i)
    {
        harness.Stack.Neighbours.Learn(TestFrames.Guest, TestFrames.GuestMac, harness.Link);
        var connection = harness.Tcp.OpenToGuest(GuestServer, Client(i), events => new FakeTcpHostSocket(events), harness.Now);
        harness.EndBatch();
        return connection;
    }

    [Fact]
    public void AFullInboundBudgetLeavesTheGuestsConnectionsAlone()
    {
        var harness = new TcpHarness(new TcpOptions { MaxConnections = 2, MaxInboundConnections = 3 });
        for (int i = 0; i < 3; i++)
        {
            Assert.NotNull(Inbound(harness, i));
        }
        harness.TakeSegments();

        Assert.Null(Inbound(harness, 3));
        GuestClient(harness, 1).Connect();
        GuestClient(harness, 2).Connect();

        Assert.Equal(1, harness.Counters.InboundLimitReached);
        Assert.Equal(0, harness.Counters.LimitReached);
        Assert.Equal(5, harness.Tcp.Count);
        Assert.Equal(3, harness.Tcp.InboundCount);
    }

    [Fact]
    public void AFullGuestBudgetLeavesThePublishedPortsAlone()
    {
        var harness = new TcpHarness(new TcpOptions { MaxConnections = 2, MaxInboundConnections = 2 });
        GuestClient(harness, 1).Connect();
        GuestClient(harness, 2).Connect();

        var refused = GuestClient(harness, 3);
        refused.Syn();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, harness.TakeOne().Flags);

        Assert.NotNull(Inbound(harness, 0));
        Assert.NotNull(Inbound(harness, 1));
        Assert.Equal(1, harness.Counters.LimitReached);
        Assert.Equal(1, harness.StackCounters.Dropped(DropReason.TcpLimit));
        Assert.Equal(0, harness.Counters.InboundLimitReached);
        Assert.Equal(2, harness.Tcp.InboundCount);
    }

    [Fact]
    public void AnInboundConnectionThatEndsGivesItsPlaceBack()
    {
        var harness = new TcpHarness(new TcpOptions { MaxInboundConnections = 1 });
        var guest = new TcpGuest(harness, GuestServer, Client(0));
        guest.AcceptFromStack();
        Assert.Null(Inbound(harness, 1));

        // The guest's server refuses: the connection ends.
        guest.Send(TcpFlags.Rst | TcpFlags.Ack, seq: 0, ack: guest.StackIsn + 1);

        Assert.Equal(0, harness.Tcp.InboundCount);
        Assert.NotNull(Inbound(harness, 2));
        Assert.Equal(1, harness.Tcp.InboundCount);
    }

    [Fact]
    public void TheGuestsBudgetCountsOnlyTheirOwnConnections()
    {
        // Inbound connections in the table do not count against the guests' budget of one.
        var harness = new TcpHarness(new TcpOptions { MaxConnections = 1, MaxInboundConnections = 4 });
        for (int i = 0; i < 4; i++)
        {
            Assert.NotNull(Inbound(harness, i));
        }
        harness.TakeSegments();

        GuestClient(harness, 1).Connect();
        var second = GuestClient(harness, 2);
        second.Syn();

        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, harness.TakeOne().Flags);
        Assert.Equal(1, harness.Counters.LimitReached);
        Assert.Equal(5, harness.Tcp.Count);
    }
}
