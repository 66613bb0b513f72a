using Usernet.Link;
using Usernet.Platform;
using Usernet.Services.Dhcp;
using Usernet.Services.Diagnostics;
using Usernet.Stack;
using Usernet.Tests.Support;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

/// <summary>
/// A stack behind the switch, as an instance runs it, with a service that throws on every
/// datagram: a fault costs the frame that caused it, is counted by handler and exception type,
/// and the link carries on. Time is explicit; the loop is never run.
/// </summary>
public sealed class FaultContainmentTests : IDisposable
{
    private static readonly Instant T0 = Instant.FromMilliseconds(1_000);

    private readonly EventLoop _loop = new();
    private readonly VirtualSwitch _switch;
    private readonly NetworkStack _stack;
    private readonly DhcpServer _dhcp;
    private readonly RecordingLink _link = new("guest");

    public FaultContainmentTests()
    {
        _switch = new VirtualSwitch(_loop);
        var options = new StackOptions();
        var builder = new NetworkStack.Builder(options, _switch, _loop.Timers);
        var pool = new DhcpLeasePool(options.FirstGuest, options.SubnetBroadcast.Offset(-1), [options.Gateway, options.Host], 100);
        var dhcpOptions = new DhcpServerOptions
        {
            ServerAddress = options.Gateway,
            Router = options.Gateway,
            PrefixLength = options.PrefixLength,
            DnsServers = [options.Gateway],
        };
        _dhcp = builder.UdpService(DhcpMessage.ServerPort, stack => new DhcpServer(dhcpOptions, pool, stack));
        builder.UdpService(ThrowingUdpService.Port, _ => new ThrowingUdpService(_loop.Timers));
        _stack = builder.Build();
        _switch.AttachStack(_stack);
        _switch.Attach(_link);
    }

    public void Dispose() => _loop.Dispose();

    private FaultCounters Faults => _loop.Faults;

    private static byte[] ToThrowingService(string payload) =>
        TestFrames.Udp(TestFrames.GuestMac, TestFrames.StackMac, TestFrames.Guest, TestFrames.Gateway, 40000, ThrowingUdpService.Port,
            System.Text.Encoding.ASCII.GetBytes(payload));

    private void AssertPingAnswered(ushort sequence)
    {
        _link.Sent.Clear();
        _switch.OnFrame(_link, TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, 7, sequence), T0);
        var reply = Assert.Single(_link.Sent);
        var icmp = new IcmpV4Message(Frames.Ipv4(reply).Payload);
        Assert.Equal(IcmpV4Type.EchoReply, icmp.Type);
        Assert.Equal(sequence, icmp.SequenceNumber);
    }

    [Fact]
    public void AServiceThatThrowsCostsOneFrameAndTheLinkStillCarriesTraffic()
    {
        AssertPingAnswered(1);
        for (int i = 0; i < 100; i++)
        {
            // What used to close the link: the exception reached the loop's dispatch.
            _switch.OnFrame(_link, ToThrowingService("boom"), T0);
        }

        Assert.Equal(100, Faults.Count("frame ThrowingUdpService", nameof(InvalidOperationException)));
        Assert.Equal(100, Faults.Total);
        Assert.False(_link.IsClosed);
        Assert.Same(_link, Assert.Single(_switch.Links));
        AssertPingAnswered(2);
        Assert.Equal(0, _switch.Counters.LinksClosed);
    }

    [Fact]
    public void ATimerThatThrowsIsCountedAndTheLoopGoesOn()
    {
        _switch.OnFrame(_link, ToThrowingService("timer"), T0);
        bool laterRan = false;
        var justAfter = new Instant(T0.Nanoseconds + 1);
        _loop.Timers.Create(_ => laterRan = true).Schedule(justAfter);

        // A throw here used to end the process; now the timer due after it still runs.
        _loop.Timers.RunDue(justAfter);

        Assert.Equal(1, Faults.Count("timer ThrowingUdpService", nameof(InvalidOperationException)));
        Assert.True(laterRan);
        AssertPingAnswered(3);
    }

    [Fact]
    public void AFaultIsCountedUnderWhatTheFrameWasFor()
    {
        Assert.Equal("ThrowingUdpService", _stack.HandlerOf(ToThrowingService("x")));
        Assert.Equal("DhcpServer", _stack.HandlerOf(TestFrames.DhcpDiscover(TestFrames.GuestMac, 1)));
        Assert.Equal("icmp", _stack.HandlerOf(TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, 1, 1)));
        Assert.Equal("udp", _stack.HandlerOf(
            TestFrames.Udp(TestFrames.GuestMac, TestFrames.StackMac, TestFrames.Guest, Ipv4Address.Parse("198.18.0.1"), 1, 2, [])));
        Assert.Equal("tcp", _stack.HandlerOf(TestFrames.Tcp(
            TestFrames.GuestMac, new IpEndpoint(TestFrames.Guest, 40000), new IpEndpoint(TestFrames.Gateway, 80), 1, 0, TcpFlags.Syn)));
        Assert.Equal("arp", _stack.HandlerOf(TestFrames.ArpRequest(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway)));
        Assert.Equal("ethernet", _stack.HandlerOf(new byte[10]));
        Assert.Equal("ipv4", _stack.HandlerOf(TestFrames.Ethernet(TestFrames.GuestMac, TestFrames.StackMac, EtherType.Ipv4, new byte[8])));
    }

    [Fact]
    public void ALinkThatClosesTakesItsGuestsLeaseAndNeighboursWithIt()
    {
        var client = TestFrames.GuestMac;
        _switch.OnFrame(_link, TestFrames.DhcpDiscover(client, 1), T0);
        var offered = Frames.Dhcp(Assert.Single(_link.Sent)).YourAddress;
        byte[] request = TestDhcp.Message(DhcpMessageType.Request, client, 2, broadcast: true, requested: offered, serverId: TestFrames.Gateway);
        _switch.OnFrame(_link, TestFrames.Udp(client, MacAddress.Broadcast, Ipv4Address.Any, Ipv4Address.Broadcast, 68, 67, request), T0);
        Assert.Equal(DhcpLeaseState.Bound, _dhcp.Pool.HolderOf(offered)?.State);
        _switch.OnFrame(_link, TestFrames.IcmpEcho(client, offered, TestFrames.Gateway, 1, 1), T0);
        Assert.True(_stack.Neighbours.TryGet(offered, out _));

        _link.Dispose();
        _switch.OnLinkClosed(_link, "the test closed it");

        Assert.Empty(_switch.Links);
        Assert.False(_stack.Neighbours.TryGet(offered, out _));
        Assert.Null(_dhcp.Pool.HolderOf(offered));
        // Nothing is sent to it any more, not even what is flooded to every guest.
        _link.Sent.Clear();
        _switch.Transmit(TestFrames.Ethernet(TestFrames.StackMac, MacAddress.Broadcast, EtherType.Ipv4, new byte[46]));
        Assert.Empty(_link.Sent);
    }
}
