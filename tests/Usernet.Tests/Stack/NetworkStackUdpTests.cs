using Usernet.Services.Dhcp;
using Usernet.Stack;
using Usernet.Tests.Support;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

public sealed class NetworkStackUdpTests
{
    private static readonly Instant T0 = Instant.FromMilliseconds(1_000);
    private static readonly MacAddress Client = new(0x02_00_00_00_00_0A);

    /// <summary>A stack with the DHCP server on port 67, as an instance of `usernet` has it.</summary>
    private static (StackHarness Harness, DhcpServer Server) WithDhcp()
    {
        var options = new StackOptions();
        var dhcpOptions = new DhcpServerOptions
        {
            ServerAddress = options.Gateway,
            Router = options.Gateway,
            PrefixLength = options.PrefixLength,
            DnsServers = [options.Gateway],
        };
        var pool = new DhcpLeasePool(options.FirstGuest, options.SubnetBroadcast.Offset(-1), [options.Gateway, options.Host], 100);
        DhcpServer? server = null;
        var harness = new StackHarness(options, build: build => server = build.UdpService(DhcpMessage.ServerPort, stack => new DhcpServer(dhcpOptions, pool, stack)));
        return (harness, server!);
    }

    private static void AssertUdpChecksumValid(byte[] frame)
    {
        var ip = Frames.Ipv4(frame);
        var udp = Frames.Udp(frame);
        Assert.NotEqual(0, udp.Checksum);
        Assert.True(udp.VerifyChecksum(ip.PseudoHeaderSum(udp.Length), isIpv6: false));
    }

    [Fact]
    public void ADhcpDiscoverThroughTheStackGetsAWellFormedBroadcastOffer()
    {
        var (harness, server) = WithDhcp();
        byte[] offer = harness.AnswerOne(TestFrames.DhcpDiscover(Client, 0xABCD), T0);

        StackHarness.AssertIpv4(offer, MacAddress.Broadcast, TestFrames.Gateway, Ipv4Address.Broadcast);
        var udp = Frames.Udp(offer);
        Assert.Equal(DhcpMessage.ServerPort, udp.SourcePort);
        Assert.Equal(DhcpMessage.ClientPort, udp.DestinationPort);
        AssertUdpChecksumValid(offer);

        var dhcp = Frames.Dhcp(offer);
        Assert.Equal(DhcpMessageType.Offer, dhcp.MessageType);
        Assert.Equal(0xABCDu, dhcp.TransactionId);
        Assert.Equal(TestFrames.Guest, dhcp.YourAddress);
        Assert.Equal(Client, dhcp.ClientHardware);
        // Option 26 is the MTU of the link the DISCOVER came in on.
        Assert.True(dhcp.TryGetOption(DhcpOption.InterfaceMtu, out var mtu));
        Assert.Equal(new byte[] { 0x05, 0xDC }, mtu.ToArray());
        Assert.Equal(1, server.Counters.Offers);
        Assert.Equal(0, harness.Counters.TotalDropped);
    }

    [Fact]
    public void TheCapturedUdhcpcDiscoverGetsAnOfferUnicastToItsMac()
    {
        // udhcpc does not set the broadcast flag: the OFFER goes to yiaddr at chaddr (RFC 2131 §4.1).
        var (harness, _) = WithDhcp();
        byte[] offer = harness.AnswerOne(Captures.DhcpDiscover, T0);
        StackHarness.AssertIpv4(offer, Frames.SideA, TestFrames.Gateway, TestFrames.Guest);
        AssertUdpChecksumValid(offer);
        Assert.Equal(DhcpMessageType.Offer, Frames.Dhcp(offer).MessageType);
    }

    [Fact]
    public void DhcpFromTheWrongSourcePortIsIgnored()
    {
        var (harness, server) = WithDhcp();
        byte[] dhcp = TestDhcp.Message(DhcpMessageType.Discover, Client, broadcast: true);
        byte[] frame = TestFrames.Udp(Client, MacAddress.Broadcast, Ipv4Address.Any, Ipv4Address.Broadcast, 6800, 67, dhcp);
        Assert.Empty(harness.Answer(frame, T0));
        Assert.Equal(1, server.Counters.Ignored);
        Assert.Equal(0, server.Pool.Count);
    }

    [Fact]
    public void AServiceTakesUnicastToTheGatewayToo()
    {
        var (harness, _) = WithDhcp();
        byte[] dhcp = TestDhcp.Message(DhcpMessageType.Inform, Client, clientAddress: TestFrames.Guest);
        byte[] frame = TestFrames.Udp(Client, TestFrames.StackMac, TestFrames.Guest, TestFrames.Gateway, 68, 67, dhcp);
        byte[] ack = harness.AnswerOne(frame, T0);
        Assert.Equal(TestFrames.Guest, Frames.Ipv4(ack).Destination);
        Assert.Equal(DhcpMessageType.Ack, Frames.Dhcp(ack).MessageType);
    }
}
