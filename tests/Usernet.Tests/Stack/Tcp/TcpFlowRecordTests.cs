using Usernet.Stack;
using Usernet.Stack.Tcp;
using Usernet.Tests.Support;

namespace Usernet.Tests.Stack.Tcp;

/// <summary>
/// What a connection tells the flow log when it ends: once, with the bytes of data each way
/// (not retransmitted twice), and how it ended.
/// </summary>
public sealed class TcpFlowRecordTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    private static (TcpHarness Harness, List<(FlowRecord Record, FlowEnd End)> Ended, TcpGuest Guest) Connected()
    {
        var harness = new TcpHarness();
        var ended = new List<(FlowRecord, FlowEnd)>();
        harness.Stack.FlowEnded = (record, end) => ended.Add((record, end));
        var guest = new TcpGuest(harness, 1000);
        guest.Connect();
        return (harness, ended, guest);
    }

    [Fact]
    public void AnOrderlyCloseEndsWithFinAndTheBytesEachWay()
    {
        var (harness, ended, guest) = Connected();
        var opened = harness.Now;
        guest.Data("GET / HTTP/1.1\r\n\r\n"u8);
        guest.Host.PeerSends(TcpHarness.Bytes(2000));
        guest.Host.PeerCloses();
        harness.OnHost(guest.Host.Events.OnHostReadable);
        harness.Advance(new TcpOptions().MinRto + Tick);
        // Our data and FIN went out again after the RTO: sent twice, counted once.
        guest.AckMore(2000 + 1);
        guest.Fin();
        Assert.Empty(ended);
        harness.Advance(new TcpOptions().TimeWait);

        var (record, end) = Assert.Single(ended);
        Assert.Equal(FlowEnd.Fin, end);
        Assert.Equal(18, record.BytesFromGuest);
        Assert.Equal(2000, record.BytesToGuest);
        Assert.Equal(Usernet.Wire.IpProtocol.Tcp, record.Protocol);
        Assert.Equal(guest.Key.Guest, record.Guest);
        Assert.Equal(guest.Key.Remote, record.Remote);
        Assert.False(record.Inbound);
        Assert.True(record.Started <= opened);
        Assert.True(record.PacketsFromGuest >= 4, $"{record.PacketsFromGuest}");
        Assert.True(record.PacketsToGuest >= 4, $"{record.PacketsToGuest}");
    }

    [Fact]
    public void AGuestResetEndsWithReset()
    {
        var (_, ended, guest) = Connected();
        guest.Rst();
        Assert.Equal(FlowEnd.Reset, Assert.Single(ended).End);
    }

    [Fact]
    public void AGuestThatStopsAnsweringEndsWithTimeout()
    {
        var (harness, ended, guest) = Connected();
        guest.Host.PeerSends(TcpHarness.Bytes(100));
        harness.OnHost(guest.Host.Events.OnHostReadable);
        for (int i = 0; i < 64 && ended.Count == 0; i++)
        {
            harness.Advance(TimeSpan.FromSeconds(30));
        }
        Assert.Equal(FlowEnd.Expired, Assert.Single(ended).End);
    }
}
