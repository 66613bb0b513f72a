using Usernet.Platform;
using Usernet.Stack;
using Usernet.Tests.Support;
using Usernet.Tests.Wire;

namespace Usernet.Tests.Stack;

public sealed class NetworkStackIpv4Tests
{
    private static readonly Instant T0 = Instant.FromMilliseconds(1_000);

    [Fact]
    public void AnIncompleteDatagramExpiresOnTheLoopsTimer()
    {
        // Without IPv6, whose router advertisements would be the first timer due.
        var harness = new StackHarness(new StackOptions { Ipv6Enabled = false });
        var timers = harness.Timers;
        Assert.Empty(harness.Answer(Fragment(0, more: true), T0));
        Assert.Equal(1, harness.Stack.Reassembler.PendingCount);
        Assert.Equal(T0 + TimeSpan.FromSeconds(30), timers.NextDue);

        timers.RunDue(T0 + TimeSpan.FromSeconds(29));
        Assert.Equal(1, harness.Stack.Reassembler.PendingCount);
        timers.RunDue(T0 + TimeSpan.FromSeconds(30));
        Assert.Equal(0, harness.Stack.Reassembler.PendingCount);
        Assert.Equal(1, harness.Stack.Reassembler.Counters.TimedOut);
        Assert.Equal(Instant.Never, timers.NextDue);
    }

    [Fact]
    public void FragmentsFromTheGuestAreReassembledBeforeDelivery()
    {
        var harness = new StackHarness();
        Assert.Empty(harness.Answer(Fragment(8, more: false), T0));
        byte[] reply = harness.AnswerOne(Fragment(0, more: true), T0);
        Assert.Equal(Usernet.Wire.IcmpV4Type.EchoReply, Frames.Icmp(reply).Type);
        Assert.Equal(1, harness.Stack.Reassembler.Counters.Completed);
    }

    /// <summary>A piece of a 16-byte echo request to the gateway: 8 bytes at <paramref name="offset"/>.</summary>
    private static byte[] Fragment(int offset, bool more)
    {
        byte[] echo = TestFrames.IcmpEcho(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway, 9, 9, dataLength: 8);
        byte[] icmp = Frames.Ipv4(echo).Payload.ToArray();
        return TestFrames.Ipv4(TestFrames.GuestMac, TestFrames.StackMac, TestFrames.Guest, TestFrames.Gateway, Usernet.Wire.IpProtocol.Icmp,
            icmp.AsSpan(offset, 8), identification: 77, fragmentOffset: offset, moreFragments: more);
    }
}
