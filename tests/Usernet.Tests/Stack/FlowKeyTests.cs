using Usernet.Stack;
using Usernet.Stack.Tcp;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

/// <summary>
/// Flows are keyed with the link the guest is behind: two guests that use the same address and
/// port on different links (which the switch's bindings would already stop) never share a
/// host socket or a connection.
/// </summary>
public sealed class FlowKeyTests
{
    private static readonly IpEndpoint Guest = new(TestFrames.Guest, 40000);
    private static readonly IpEndpoint Remote = new(Ipv4Address.Parse("198.18.0.1"), 7000);

    private readonly RecordingLink _other = new("other guest");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheSameUdpEndpointOnTwoLinksGetsTwoHostSockets(bool v4)
    {
        var nat = new NatHarness();
        var guest = v4 ? Guest : new IpEndpoint(NatHarness.GuestV6, 40000);
        var remote = v4 ? Remote : new IpEndpoint(Ipv6Address.Parse("2001:db8::1"), 7000);
        nat.Stack.Receive(NatHarness.UdpFrame(guest, remote, "one"u8), nat.Link, nat.Now);
        nat.Stack.Receive(NatHarness.UdpFrame(guest, remote, "two"u8), _other, nat.Now);
        nat.Stack.Receive(NatHarness.UdpFrame(guest, remote, "three"u8), nat.Link, nat.Now);

        Assert.Equal(2, nat.Factory.Udp.Count);
        Assert.Equal(["one", "three"], nat.Factory.Udp[0].Sends.Select(s => System.Text.Encoding.ASCII.GetString(s.Payload)));
        Assert.Equal(["two"], nat.Factory.Udp[1].Sends.Select(s => System.Text.Encoding.ASCII.GetString(s.Payload)));
        Assert.Equal(2, nat.Udp.Counters.FlowsOpened);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheSameEchoIdentifierOnTwoLinksGetsTwoPingSockets(bool v4)
    {
        var nat = new NatHarness();
        IpAddress guest = v4 ? TestFrames.Guest : NatHarness.GuestV6;
        IpAddress remote = v4 ? Remote.Address : Ipv6Address.Parse("2001:db8::1");
        nat.Stack.Receive(NatHarness.EchoFrame(guest, remote, id: 7, sequence: 1), nat.Link, nat.Now);
        nat.Stack.Receive(NatHarness.EchoFrame(guest, remote, id: 7, sequence: 1), _other, nat.Now);
        nat.Stack.Receive(NatHarness.EchoFrame(guest, remote, id: 7, sequence: 2), nat.Link, nat.Now);

        Assert.Equal(2, nat.Factory.Ping.Count);
        Assert.Equal(2, nat.Factory.Ping[0].Sends.Count);
        Assert.Single(nat.Factory.Ping[1].Sends);
    }

    [Fact]
    public void TheSameTcpEndpointsOnTwoLinksAreTwoConnections()
    {
        var harness = new TcpHarness();
        byte[] syn = TestFrames.Tcp(TestFrames.GuestMac, Guest, Remote, 1000, 0, TcpFlags.Syn, options: TcpSynOptionBytes.Build());
        harness.Stack.Receive(syn, harness.Link, harness.Now);
        harness.Stack.Receive(syn, _other, harness.Now);

        Assert.Equal(2, harness.Tcp.Count);
        Assert.Equal(
            [new TcpFlowKey(Guest, Remote, harness.Link.Id), new TcpFlowKey(Guest, Remote, _other.Id)],
            harness.Connector.Attempts.Select(a => a.Flow));
    }

    [Fact]
    public void FindingAFlowByItsLinkKeyedKeyAllocatesNothing()
    {
        var flows = new FlowTable<(IpEndpoint Guest, int LinkId), object>(64, TimeSpan.FromMinutes(1), new Usernet.Platform.TimerQueue(), (_, _) => { });
        var connections = new Dictionary<TcpFlowKey, object>();
        for (int i = 0; i < 64; i++)
        {
            var guest = Guest with { Port = (ushort)(40000 + i) };
            flows.Add((guest, i % 2), new object(), NatHarness.Start);
            connections.Add(new TcpFlowKey(guest, Remote, i % 2), new object());
        }
        var now = NatHarness.Start;
        flows.TryGet((Guest, 0), now, out _);
        connections.TryGetValue(new TcpFlowKey(Guest, Remote, 0), out _);
        // The loop once to warm up (the runtime's tier-up allocates on this thread, once), then measured.
        long before = 0;
        for (int pass = 0; pass < 2; pass++)
        {
            before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10_000; i++)
            {
                now += TimeSpan.FromMilliseconds(1);
                var guest = Guest with { Port = (ushort)(40000 + i % 64) };
                flows.TryGet((guest, i % 2), now, out _);
                connections.TryGetValue(new TcpFlowKey(guest, Remote, i % 2), out _);
            }
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
