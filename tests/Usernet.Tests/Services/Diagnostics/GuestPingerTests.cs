using Usernet.Services.Diagnostics;
using Usernet.Stack;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.Services.Diagnostics;

/// <summary>usernet ping's echo requests from the gateway, with explicit time.</summary>
public sealed class GuestPingerTests
{
    private static readonly Instant T0 = Instant.Zero + TimeSpan.FromSeconds(50);

    private static (StackHarness Harness, GuestPinger Pinger) Make()
    {
        var harness = new StackHarness(new StackOptions { GuestRoutes = [GuestRoute.V4(Ipv4Cidr.Parse("172.17.0.0/16"), TestFrames.Guest)] });
        // The guest has spoken: its MAC is known.
        harness.AnswerOne(TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, 1, 1));
        return (harness, new GuestPinger(harness.Timers, harness.Stack));
    }

    /// <summary>The guest's answer to an echo request the stack sent.</summary>
    private static byte[] ReplyTo(byte[] request)
    {
        var ip = Tests.Wire.Frames.Ipv4(request);
        byte[] icmp = ip.Payload.ToArray();
        var message = new IcmpV4Message(icmp) { Type = IcmpV4Type.EchoReply };
        message.FillChecksum();
        return TestFrames.Ipv4(TestFrames.GuestMac, TestFrames.StackMac, ip.Destination, ip.Source, IpProtocol.Icmp, icmp);
    }

    private static IcmpV4Message Echo(byte[] frame) => new(Tests.Wire.Frames.Ipv4(frame).Payload);

    [Fact]
    public async Task RequestsGoOutASecondApartAndTheRepliesAreTimed()
    {
        var (harness, pinger) = Make();
        var run = pinger.Start(TestFrames.Guest, 2, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), T0)!;
        var first = Assert.Single(harness.Sent.Take());
        StackHarness.AssertIpv4(first, TestFrames.GuestMac, TestFrames.Gateway, TestFrames.Guest);
        Assert.Equal(IcmpV4Type.EchoRequest, Echo(first).Type);
        Assert.Equal(1, Echo(first).SequenceNumber);
        Assert.Equal(IcmpV4Message.HeaderLength + GuestPinger.DataLength, Tests.Wire.Frames.Ipv4(first).Payload.Length);

        harness.Stack.Receive(ReplyTo(first), harness.Link, T0 + TimeSpan.FromMilliseconds(3));
        harness.Timers.RunDue(T0 + TimeSpan.FromMilliseconds(999));
        Assert.Empty(harness.Sent.Take());
        harness.Timers.RunDue(T0 + TimeSpan.FromSeconds(1));
        var second = Assert.Single(harness.Sent.Take());
        Assert.Equal(2, Echo(second).SequenceNumber);
        Assert.False(run.IsCompleted);
        harness.Stack.Receive(ReplyTo(second), harness.Link, T0 + TimeSpan.FromMilliseconds(1005));

        Assert.True(run.IsCompleted);
        var result = await run;
        Assert.Equal(2, result.Transmitted);
        Assert.Equal([new PingReply(1, TimeSpan.FromMilliseconds(3)), new PingReply(2, TimeSpan.FromMilliseconds(5))], result.Replies);
        Assert.Equal(2, harness.Counters.EchoRepliesReceived);
    }

    [Fact]
    public async Task AnAddressBehindTheGuestIsPingedThroughItAndSilenceEndsTheRunAfterTheWait()
    {
        var (harness, pinger) = Make();
        var container = Ipv4Address.Parse("172.17.0.2");
        var run = pinger.Start(container, 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), T0)!;
        StackHarness.AssertIpv4(Assert.Single(harness.Sent.Take()), TestFrames.GuestMac, TestFrames.Gateway, container);
        // A reply from another address, for another run, is not this run's: dropped as stray ICMP.
        var stray = TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, 9, 1);
        var message = Echo(stray);
        message.Type = IcmpV4Type.EchoReply;
        message.FillChecksum();
        Assert.Empty(harness.Answer(stray));
        Assert.Equal(1, harness.Counters.Dropped(DropReason.IcmpUnsupported));
        harness.Timers.RunDue(T0 + TimeSpan.FromSeconds(1.9));
        Assert.False(run.IsCompleted);
        harness.Timers.RunDue(T0 + TimeSpan.FromSeconds(2));
        Assert.True(run.IsCompleted);
        var result = await run;
        Assert.Equal(1, result.Transmitted);
        Assert.Empty(result.Replies);
    }

    [Fact]
    public void RunsAreBounded()
    {
        var (_, pinger) = Make();
        for (int i = 0; i < GuestPinger.MaxRuns; i++)
        {
            Assert.NotNull(pinger.Start(TestFrames.Guest, 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), T0));
        }
        Assert.Null(pinger.Start(TestFrames.Guest, 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), T0));
    }
}
