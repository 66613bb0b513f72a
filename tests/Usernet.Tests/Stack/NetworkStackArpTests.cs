using Usernet.Stack;
using Usernet.Tests.Support;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

public sealed class NetworkStackArpTests
{
    [Theory]
    [InlineData("192.168.65.1")]
    [InlineData("192.168.65.254")]
    public void ArpForTheGatewayOrHostIsAnsweredWithTheStackMac(string target)
    {
        var harness = new StackHarness();
        var address = Ipv4Address.Parse(target);
        byte[] reply = harness.AnswerOne(TestFrames.ArpRequest(TestFrames.GuestMac, TestFrames.Guest, address));

        Assert.True(EthernetFrame.TryParse(reply, out var ethernet));
        Assert.Equal(TestFrames.GuestMac, ethernet.Destination);
        Assert.Equal(TestFrames.StackMac, ethernet.Source);
        Assert.Equal(EtherType.Arp, ethernet.EtherType);
        Assert.True(ArpPacket.TryParse(ethernet.Payload, out var arp));
        Assert.Equal(ArpOperation.Reply, arp.Operation);
        Assert.Equal(TestFrames.StackMac, arp.SenderHardware);
        Assert.Equal(address, arp.SenderProtocol);
        Assert.Equal(TestFrames.GuestMac, arp.TargetHardware);
        Assert.Equal(TestFrames.Guest, arp.TargetProtocol);

        Assert.Equal(1, harness.Counters.ArpRepliesSent);
        Assert.Equal(0, harness.Counters.TotalDropped);
        // The asker is learned, so replies to it need no ARP of our own.
        Assert.True(harness.Stack.Neighbours.TryGet(TestFrames.Guest, out var neighbour));
        Assert.Equal(new Neighbour(TestFrames.GuestMac, harness.Link), neighbour);
    }

    [Theory]
    [InlineData("192.168.65.77")]   // another guest answers for itself
    [InlineData("192.168.65.3")]    // the guest probing its own address
    [InlineData("198.18.0.1")]      // outside: the guest should ask for its router
    public void ArpForAnyOtherAddressIsNotAnswered(string target)
    {
        var harness = new StackHarness();
        Assert.Empty(harness.Answer(TestFrames.ArpRequest(TestFrames.GuestMac, TestFrames.Guest, Ipv4Address.Parse(target))));
        Assert.Equal(1, harness.Counters.Dropped(DropReason.NotForUs));
        Assert.Equal(0, harness.Counters.ArpRepliesSent);
    }

    [Fact]
    public void TheCapturedArpRequestGetsTheReplyLinuxSent()
    {
        // The stack in place of namespace B's kernel answers byte for byte as the kernel did.
        var harness = new StackHarness(StackHarness.CaptureNetwork);
        Assert.Equal(Captures.ArpReply, harness.AnswerOne(Captures.ArpRequest));
    }

    [Fact]
    public void AnArpReplyTeachesTheNeighbourWithoutADrop()
    {
        var harness = new StackHarness();
        byte[] arp = new byte[ArpPacket.Length];
        ArpPacket.Write(arp, ArpOperation.Reply, TestFrames.GuestMac, TestFrames.Guest, TestFrames.StackMac, TestFrames.Gateway);
        Assert.Empty(harness.Answer(TestFrames.Ethernet(TestFrames.GuestMac, TestFrames.StackMac, EtherType.Arp, arp)));
        Assert.True(harness.Stack.Neighbours.TryGet(TestFrames.Guest, out _));
        Assert.Equal(0, harness.Counters.TotalDropped);
    }

    [Theory]
    [InlineData("10.0.0.5")]        // outside the subnet
    [InlineData("192.168.65.1")]    // claims to be the gateway
    [InlineData("192.168.65.254")]  // claims to be the host
    public void ArpCannotTeachAnAddressOutsideTheSubnetOrOneOfTheStacks(string sender)
    {
        var harness = new StackHarness();
        harness.Answer(TestFrames.ArpRequest(TestFrames.GuestMac, Ipv4Address.Parse(sender), TestFrames.Gateway));
        Assert.Equal(0, harness.Stack.Neighbours.Count);
    }

    [Fact]
    public void NeighboursOfAClosedLinkAreForgotten()
    {
        var harness = new StackHarness();
        var other = new RecordingLink("other");
        harness.Answer(TestFrames.ArpRequest(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway));
        var otherGuest = Ipv4Address.Parse("192.168.65.4");
        harness.Stack.Receive(TestFrames.ArpRequest(new MacAddress(0x02_00_00_00_00_04), otherGuest, TestFrames.Gateway), other, default);
        var gone = new List<IpAddress>();
        harness.Stack.GuestGone += gone.Add;

        harness.Stack.OnLinkClosed(harness.Link);
        Assert.Equal([(IpAddress)TestFrames.Guest], gone);
        Assert.False(harness.Stack.Neighbours.TryGet(TestFrames.Guest, out _));
        Assert.True(harness.Stack.Neighbours.TryGet(otherGuest, out _));
    }

    [Fact]
    public void APacketHeldForArpIsSizedByTheLinkItWillGoOut()
    {
        // One TAP with MTU 65520: the guest's TCP is offered segments that large before it has
        // said its MAC, so a packet that size must not be refused for a 1500-byte default.
        var harness = new StackHarness(linkMtu: 65520);
        harness.Sent.AttachedLinks.Add(harness.Link);
        // Held, not sent (false): what goes out is the ARP request for the guest.
        Assert.False(harness.Stack.SendIpv4(TestFrames.Gateway, TestFrames.Guest, IpProtocol.Udp, 9000));
        Assert.Equal(1, harness.Stack.PendingResolution.DestinationCount);
        Assert.Single(harness.Sent.Take());

        var frames = harness.Answer(TestFrames.ArpRequest(TestFrames.GuestMac, TestFrames.Guest, TestFrames.Gateway));
        Assert.Contains(frames, frame => frame.Length == EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength + 9000);
    }
}
