using System.Buffers.Binary;
using System.Text;
using Usernet.Link;
using Usernet.Services.Dhcp;
using Usernet.Tests.Support;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dhcp;

public sealed class DhcpServerTests
{
    private static readonly Instant T0 = Instant.FromMilliseconds(50_000);
    private static readonly MacAddress Client = new(0x02_00_00_00_00_0A);
    private static readonly MacAddress Other = new(0x02_00_00_00_00_0B);
    private static readonly Ipv4Address Gateway = Ipv4Address.Parse("192.168.65.1");
    private static readonly Ipv4Address First = Ipv4Address.Parse("192.168.65.3");
    private static readonly Ipv4Address Second = Ipv4Address.Parse("192.168.65.4");
    private static readonly Ipv4Address AnotherServer = Ipv4Address.Parse("192.168.65.2");

    private static readonly DhcpServerOptions Options = new()
    {
        ServerAddress = Gateway,
        Router = Gateway,
        PrefixLength = 24,
        DnsServers = [Gateway, Ipv4Address.Parse("192.168.65.254")],
        SearchDomains = ["corp.example", "example.org."],
        LeaseTime = TimeSpan.FromHours(1),
    };

    /// <summary>The server as `usernet` makes it: guests from .3, the gateway and host left out.</summary>
    private static DhcpServer NewServer(int maxLeases = 100) =>
        new(Options, new DhcpLeasePool(First, Ipv4Address.Parse("192.168.65.254"), [Gateway, Ipv4Address.Parse("192.168.65.254")], maxLeases), stack: null);

    /// <summary>
    /// The server's answer to <paramref name="message"/>, sent from <paramref name="frameSource"/>
    /// (by default the MAC in its chaddr) on <paramref name="link"/> (by default that MAC's own).
    /// </summary>
    private static DhcpReply? Exchange(
        DhcpServer server, byte[] message, Instant now, MacAddress? frameSource = null, int mtu = 1500, FrameLink? link = null)
    {
        byte[] reply = new byte[1024];
        MacAddress source = frameSource ?? MacAddress.Read(message.AsSpan(28));
        int length = server.Handle(message.ToArray(), source, link ?? TestLinks.Of(source), mtu, now, reply, out var target);
        return length == 0 ? null : new DhcpReply(reply[..length], target);
    }

    private static DhcpReply Ok(DhcpReply? reply)
    {
        Assert.NotNull(reply);
        return reply;
    }

    /// <summary>DISCOVER, OFFER, REQUEST, ACK: the client ends bound to the returned address.</summary>
    private static Ipv4Address Lease(DhcpServer server, MacAddress client, Instant now)
    {
        var offer = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, client), now));
        var address = offer.Message.YourAddress;
        var ack = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, client, requested: address, serverId: Gateway), now));
        Assert.Equal(DhcpMessageType.Ack, ack.Type);
        return address;
    }

    private static uint UInt32(byte[] data) => BinaryPrimitives.ReadUInt32BigEndian(data);

    private static Ipv4Address Address(byte[] data)
    {
        Assert.Equal(4, data.Length);
        return Ipv4Address.Read(data);
    }

    [Fact]
    public void DiscoverGetsAnOfferWithEverythingAGuestNeeds()
    {
        var server = NewServer();
        byte[] discover = TestDhcp.Message(DhcpMessageType.Discover, Client, transactionId: 0xCAFE_F00D, broadcast: true);
        var offer = Ok(Exchange(server, discover, T0, mtu: 65520));

        var message = offer.Message;
        Assert.Equal(DhcpOpcode.BootReply, message.Op);
        Assert.Equal(0xCAFE_F00Du, message.TransactionId);
        Assert.Equal(First, message.YourAddress);
        Assert.Equal(Ipv4Address.Any, message.ClientAddress);
        Assert.Equal(Client, message.ClientHardware);
        Assert.True(message.Broadcast);
        // RFC 1542 §2.1: at least the 300 bytes of a BOOTP message.
        Assert.True(offer.Bytes.Length >= 300);

        var options = offer.Options;
        Assert.Equal([(byte)DhcpMessageType.Offer], options[DhcpOption.MessageType]);
        Assert.Equal(Gateway, Address(options[DhcpOption.ServerIdentifier]));
        Assert.Equal(3600u, UInt32(options[DhcpOption.LeaseTime]));
        // RFC 2131 §4.4.5: T1 is half the lease, T2 seven eighths.
        Assert.Equal(1800u, UInt32(options[DhcpOption.RenewalTime]));
        Assert.Equal(3150u, UInt32(options[DhcpOption.RebindingTime]));
        Assert.Equal(Ipv4Address.Parse("255.255.255.0"), Address(options[DhcpOption.SubnetMask]));
        Assert.Equal(Gateway, Address(options[DhcpOption.Router]));
        Assert.Equal(Ipv4Address.Parse("192.168.65.255"), Address(options[DhcpOption.BroadcastAddress]));
        Assert.Equal(Convert.FromHexString("C0A84101C0A841FE"), options[DhcpOption.DomainNameServer]);
        Assert.Equal(65520, BinaryPrimitives.ReadUInt16BigEndian(options[DhcpOption.InterfaceMtu]));
        Assert.Equal("corp.example"u8.ToArray(), options[DhcpOption.DomainName]);
        Assert.Equal("\u0004corp\u0007example\0\u0007example\u0003org\0"u8.ToArray(), options[DhcpOption.DomainSearch]);
        Assert.Equal(12, options.Count);

        Assert.Equal(1, server.Counters.Requests);
        Assert.Equal(1, server.Counters.Offers);
        Assert.Equal(DhcpLeaseState.Offered, server.Pool.LeaseOf(Client)!.State);
    }

    [Fact]
    public void NoSearchDomainsMeansNoDomainOptions()
    {
        var server = new DhcpServer(Options with { SearchDomains = [], DnsServers = [] }, new DhcpLeasePool(First, Second, [], 10), stack: null);
        var options = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Client), T0)).Options;
        Assert.False(options.ContainsKey(DhcpOption.DomainName));
        Assert.False(options.ContainsKey(DhcpOption.DomainSearch));
        Assert.False(options.ContainsKey(DhcpOption.DomainNameServer));
    }

    [Fact]
    public void SearchDomainsThatAreNoDnsNamesAreNotOffered()
    {
        // From resolv.conf, which is not validated: option 15 was the first name as ASCII, "b?cher.example".
        var server = new DhcpServer(Options with { SearchDomains = ["bücher.example", "corp.example."] }, new DhcpLeasePool(First, Second, [], 10), stack: null);
        var options = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Client), T0)).Options;
        Assert.Equal("corp.example"u8.ToArray(), options[DhcpOption.DomainName]);
        Assert.Equal("\u0004corp\u0007example\0"u8.ToArray(), options[DhcpOption.DomainSearch]);

        server = new DhcpServer(Options with { SearchDomains = ["bücher.example"] }, new DhcpLeasePool(First, Second, [], 10), stack: null);
        options = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Client), T0)).Options;
        Assert.False(options.ContainsKey(DhcpOption.DomainName));
        Assert.False(options.ContainsKey(DhcpOption.DomainSearch));
    }

    [Fact]
    public void AnswersTheCapturedUdhcpcAsDnsmasqDid()
    {
        // The network of the capture: dnsmasq on 198.18.6.1 offered 198.18.6.123 for an hour.
        var serverAddress = Ipv4Address.Parse("198.18.6.1");
        var offered = Ipv4Address.Parse("198.18.6.123");
        var options = new DhcpServerOptions
        {
            ServerAddress = serverAddress,
            Router = serverAddress,
            PrefixLength = 24,
            DnsServers = [],
            LeaseTime = TimeSpan.FromHours(1),
        };
        var server = new DhcpServer(options, new DhcpLeasePool(offered, Ipv4Address.Parse("198.18.6.150"), [], 100), stack: null);

        var offer = Ok(Exchange(server, Frames.Udp(Captures.DhcpDiscover).Payload.ToArray(), T0));
        var dnsmasqOffer = Frames.Dhcp(Captures.DhcpOffer);
        AssertCarriesWhatDnsmasqSent(offer, dnsmasqOffer);
        // udhcpc asked without the broadcast flag: unicast to yiaddr and chaddr (RFC 2131 §4.1).
        Assert.Equal(new DhcpReplyTarget(offered, Frames.SideA), offer.Target);

        var ack = Ok(Exchange(server, Frames.Udp(Captures.DhcpRequest).Payload.ToArray(), T0));
        AssertCarriesWhatDnsmasqSent(ack, Frames.Dhcp(Captures.DhcpAck));
        Assert.Equal(new DhcpReplyTarget(offered, Frames.SideA), ack.Target);
        Assert.Equal(DhcpLeaseState.Bound, server.Pool.LeaseOf(Frames.SideA)!.State);
    }

    /// <summary>Same transaction, address and client, and every option dnsmasq sent with the same value.</summary>
    private static void AssertCarriesWhatDnsmasqSent(DhcpReply ours, DhcpMessage dnsmasq)
    {
        var message = ours.Message;
        Assert.Equal(dnsmasq.TransactionId, message.TransactionId);
        Assert.Equal(dnsmasq.YourAddress, message.YourAddress);
        Assert.Equal(dnsmasq.ClientHardware, message.ClientHardware);
        Assert.Equal(dnsmasq.Flags, message.Flags);
        var options = ours.Options;
        foreach (var (code, data) in TestDhcp.Options(dnsmasq))
        {
            if (code == DhcpOption.HostName)
            {
                // dnsmasq echoes the client's host name; a server need not (RFC 2132 §3.14).
                continue;
            }
            Assert.True(options.ContainsKey(code), $"option {code} missing");
            Assert.Equal(data, options[code]);
        }
    }

    [Fact]
    public void RequestSelectingThisServerIsAcked()
    {
        var server = NewServer();
        var offer = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Client), T0));
        var request = TestDhcp.Message(DhcpMessageType.Request, Client, requested: offer.Message.YourAddress, serverId: Gateway);
        var ack = Ok(Exchange(server, request, T0 + TimeSpan.FromSeconds(1)));

        Assert.Equal(DhcpMessageType.Ack, ack.Type);
        Assert.Equal(First, ack.Message.YourAddress);
        Assert.Equal(3600u, UInt32(ack.Options[DhcpOption.LeaseTime]));
        Assert.Equal(new DhcpReplyTarget(First, Client), ack.Target);
        var lease = server.Pool.LeaseOf(Client)!;
        Assert.Equal(DhcpLeaseState.Bound, lease.State);
        Assert.Equal(T0 + TimeSpan.FromSeconds(1) + TimeSpan.FromHours(1), lease.Expires);
        Assert.Equal(1, server.Counters.Acks);
    }

    [Fact]
    public void RequestSelectingAnotherServerIsIgnoredAndReleasesOurOffer()
    {
        // RFC 2131 §4.3.2: the client chose another server's offer, so ours is free again.
        var server = NewServer();
        Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Client), T0));
        var request = TestDhcp.Message(DhcpMessageType.Request, Client, requested: Ipv4Address.Parse("192.168.65.77"), serverId: AnotherServer);
        Assert.Null(Exchange(server, request, T0));
        Assert.Null(server.Pool.LeaseOf(Client));
        Assert.Null(server.Pool.HolderOf(First));
        Assert.Equal(1, server.Counters.Ignored);
    }

    [Fact]
    public void RequestSelectingAnotherServerKeepsABoundLease()
    {
        var server = NewServer();
        var address = Lease(server, Client, T0);
        Assert.Null(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, Client, requested: address, serverId: AnotherServer), T0));
        Assert.Equal(DhcpLeaseState.Bound, server.Pool.LeaseOf(Client)!.State);
    }

    [Fact]
    public void InitRebootForItsOwnAddressIsAcked()
    {
        var server = NewServer();
        var address = Lease(server, Client, T0);
        // INIT-REBOOT: option 50, no server identifier, ciaddr zero (RFC 2131 §4.3.2).
        var later = T0 + TimeSpan.FromMinutes(10);
        var ack = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, Client, requested: address), later));
        Assert.Equal(DhcpMessageType.Ack, ack.Type);
        Assert.Equal(address, ack.Message.YourAddress);
        Assert.Equal(later + TimeSpan.FromHours(1), server.Pool.LeaseOf(Client)!.Expires);
    }

    [Fact]
    public void InitRebootForAnAddressInUseIsNakked()
    {
        var server = NewServer();
        var taken = Lease(server, Other, T0);
        var nak = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, Client, requested: taken), T0));
        Assert.Equal(DhcpMessageType.Nak, nak.Type);
        Assert.Equal(Other, server.Pool.HolderOf(taken)!.Client);
        Assert.Equal(1, server.Counters.Naks);
    }

    [Theory]
    [InlineData("10.0.0.5")]        // another network: the guest moved
    [InlineData("192.168.65.1")]    // the gateway
    [InlineData("192.168.65.254")]  // the host
    public void InitRebootForAnAddressOutsideThePoolIsNakked(string address)
    {
        var server = NewServer();
        var nak = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, Client, requested: Ipv4Address.Parse(address)), T0));
        Assert.Equal(DhcpMessageType.Nak, nak.Type);
        Assert.Null(server.Pool.LeaseOf(Client));
    }

    [Fact]
    public void ANakCarriesNoAddressNoLeaseAndIsBroadcast()
    {
        // RFC 2131 Table 3: ciaddr and yiaddr 0, a server identifier, no lease time; §4.1:
        // with giaddr 0 a NAK is broadcast, whatever the client asked.
        var server = NewServer();
        var taken = Lease(server, Other, T0);
        var request = TestDhcp.Message(DhcpMessageType.Request, Client, clientAddress: taken);
        var nak = Ok(Exchange(server, request, T0));

        Assert.Equal(DhcpMessageType.Nak, nak.Type);
        Assert.Equal(Ipv4Address.Any, nak.Message.YourAddress);
        Assert.Equal(Ipv4Address.Any, nak.Message.ClientAddress);
        Assert.Equal(Client, nak.Message.ClientHardware);
        Assert.Equal(new DhcpReplyTarget(Ipv4Address.Broadcast, MacAddress.Broadcast), nak.Target);
        var options = nak.Options;
        Assert.Equal(Gateway, Address(options[DhcpOption.ServerIdentifier]));
        Assert.Equal([DhcpOption.MessageType, DhcpOption.ServerIdentifier], options.Keys.Order());
    }

    [Fact]
    public void ARequestWithoutAnyAddressIsNakked()
    {
        var server = NewServer();
        var nak = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, Client), T0));
        Assert.Equal(DhcpMessageType.Nak, nak.Type);
    }

    [Fact]
    public void RenewingIsAckedUnicastToCiaddrAndExtendsTheLease()
    {
        var server = NewServer();
        var address = Lease(server, Client, T0);
        // RENEWING: ciaddr filled in, neither option 50 nor 54 (RFC 2131 §4.3.2).
        var renewal = T0 + TimeSpan.FromMinutes(30);
        var ack = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, Client, clientAddress: address), renewal));

        Assert.Equal(DhcpMessageType.Ack, ack.Type);
        Assert.Equal(address, ack.Message.YourAddress);
        Assert.Equal(address, ack.Message.ClientAddress);
        // The client can receive at its address: unicast, to the MAC the request came from.
        Assert.Equal(new DhcpReplyTarget(address, Client), ack.Target);
        Assert.Equal(renewal + TimeSpan.FromHours(1), server.Pool.LeaseOf(Client)!.Expires);
        // Only the client may send from the address, until the renewed lease ends.
        Assert.Equal(Client, server.Bindings.HolderOf(address, renewal + TimeSpan.FromMinutes(59)));
    }

    [Fact]
    public void RebindingWithTheBroadcastFlagStillGoesToCiaddr()
    {
        // §4.1: ciaddr comes first; the broadcast flag matters only without one.
        var server = NewServer();
        var address = Lease(server, Client, T0);
        var ack = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, Client, clientAddress: address, broadcast: true), T0));
        Assert.Equal(new DhcpReplyTarget(address, Client), ack.Target);
    }

    [Fact]
    public void AnOfferIsBroadcastWhenTheClientSetsTheBroadcastFlag()
    {
        var server = NewServer();
        var offer = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Client, broadcast: true), T0));
        Assert.Equal(new DhcpReplyTarget(Ipv4Address.Broadcast, MacAddress.Broadcast), offer.Target);
    }

    [Fact]
    public void AnOfferWithoutTheFlagIsUnicastToYiaddrAndChaddr()
    {
        var server = NewServer();
        var offer = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Client), T0));
        Assert.Equal(new DhcpReplyTarget(First, Client), offer.Target);
    }

    [Theory]
    [InlineData((byte)DhcpMessageType.Discover)]
    [InlineData((byte)DhcpMessageType.Request)]
    [InlineData((byte)DhcpMessageType.Release)]
    [InlineData((byte)DhcpMessageType.Decline)]
    [InlineData((byte)DhcpMessageType.Inform)]
    public void AMessageInTheNameOfAnotherMacIsDroppedAndCounted(byte type)
    {
        // Other's frame names Client in chaddr: there are no relays on this LAN.
        var server = NewServer();
        var address = Lease(server, Client, T0);
        byte[] forged = TestDhcp.Message((DhcpMessageType)type, Client, clientAddress: address, requested: address, serverId: Gateway);
        Assert.Null(Exchange(server, forged, T0, frameSource: Other));
        Assert.Equal(1, server.Counters.NotFromClient);
        Assert.Equal(DhcpLeaseState.Bound, server.Pool.LeaseOf(Client)!.State);
        Assert.Equal(Client, server.Bindings.HolderOf(address, T0));
        Assert.Null(server.Pool.LeaseOf(Other));
    }

    [Fact]
    public void ALeaseIsBoundToItsClientUntilReleasedAndMovesWithANewAddress()
    {
        var server = NewServer();
        var offered = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Client), T0)).Message.YourAddress;
        Assert.Null(server.Bindings.HolderOf(offered, T0));
        var address = Lease(server, Client, T0);
        Assert.Equal(Client, server.Bindings.HolderOf(address, T0));
        Assert.Equal(BindResult.Taken, server.Bindings.Claim(address, Other, TestLinks.Of(Other), T0));

        // INIT-REBOOT for another free address: the client moves, and lets go of the old one.
        var ack = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, Client, requested: Second), T0));
        Assert.Equal(DhcpMessageType.Ack, ack.Type);
        Assert.Null(server.Bindings.HolderOf(address, T0));
        Assert.Equal(Client, server.Bindings.HolderOf(Second, T0));

        Assert.Null(Exchange(server, TestDhcp.Message(DhcpMessageType.Release, Client, clientAddress: Second, serverId: Gateway), T0));
        Assert.Null(server.Bindings.HolderOf(Second, T0));
        Assert.Equal(0, server.Counters.NotOwner);
    }

    [Fact]
    public void AnAddressAnotherGuestAlreadyUsesIsNeitherOfferedNorAcked()
    {
        // Other configured First statically and sends from it.
        var server = NewServer();
        server.Bindings.Claim(First, Other, TestLinks.Of(Other), T0);
        var offer = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Client, requested: First), T0));
        Assert.Equal(Second, offer.Message.YourAddress);
        Assert.Equal(1, server.Counters.InUse);

        var nak = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, Client, requested: First), T0));
        Assert.Equal(DhcpMessageType.Nak, nak.Type);
        Assert.Equal(2, server.Counters.InUse);
        Assert.Equal(Other, server.Bindings.HolderOf(First, T0));
    }

    [Fact]
    public void ALinkHoldsAtMostItsShareOfLeasesAndOffers()
    {
        var server = NewServer();
        var link = TestLinks.Of(Client);
        for (int i = 0; i < DhcpServer.MaxLeasesPerLink; i++)
        {
            var mac = new MacAddress(0x02_00_00_00_10_00UL | (uint)i);
            Assert.NotNull(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, mac), T0, link: link));
        }
        var turnedAway = new MacAddress(0x02_00_00_00_10_FF);
        Assert.Null(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, turnedAway), T0, link: link));
        Assert.Null(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, turnedAway, requested: Ipv4Address.Parse("192.168.65.100")), T0, link: link));
        Assert.Equal(2, server.Counters.LinkLimit);

        // A client of the link that holds an offer still gets its lease; another link is unaffected.
        var first = new MacAddress(0x02_00_00_00_10_00);
        var offered = server.Pool.LeaseOf(first)!.Address;
        Assert.Equal(DhcpMessageType.Ack, Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, first, requested: offered), T0, link: link)).Type);
        Assert.NotNull(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Other), T0));

        // Offers that lapse free the link's share.
        var later = T0 + DhcpLeasePool.OfferHold + TimeSpan.FromSeconds(1);
        Assert.NotNull(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, turnedAway), later, link: link));
    }

    [Fact]
    public void AReservationIsItsClientsAloneInTheBindingsToo()
    {
        var server = NewServer();
        server.Reserve(Client, First);
        Assert.Equal(Client, server.Bindings.HolderOf(First, T0 + TimeSpan.FromDays(365)));
        var offer = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Other, requested: First), T0));
        Assert.NotEqual(First, offer.Message.YourAddress);
    }

    [Fact]
    public void InformIsAckedWithoutLeaseTimeOrAddress()
    {
        // RFC 2131 §4.3.5: configuration only; no yiaddr and no lease time, unicast to ciaddr.
        var server = NewServer();
        var configured = Ipv4Address.Parse("192.168.65.200");
        var ack = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Inform, Client, clientAddress: configured), T0));

        Assert.Equal(DhcpMessageType.Ack, ack.Type);
        Assert.Equal(Ipv4Address.Any, ack.Message.YourAddress);
        Assert.Equal(new DhcpReplyTarget(configured, Client), ack.Target);
        var options = ack.Options;
        Assert.False(options.ContainsKey(DhcpOption.LeaseTime));
        Assert.False(options.ContainsKey(DhcpOption.RenewalTime));
        Assert.False(options.ContainsKey(DhcpOption.RebindingTime));
        Assert.Equal(Gateway, Address(options[DhcpOption.Router]));
        Assert.True(options.ContainsKey(DhcpOption.DomainNameServer));
        Assert.Equal(0, server.Pool.Count);
    }

    [Fact]
    public void InformWithoutCiaddrIsIgnored()
    {
        var server = NewServer();
        Assert.Null(Exchange(server, TestDhcp.Message(DhcpMessageType.Inform, Client), T0));
        Assert.Equal(1, server.Counters.Ignored);
    }

    [Fact]
    public void ReleaseFreesTheAddressWithoutAReply()
    {
        var server = NewServer();
        var address = Lease(server, Client, T0);
        Assert.Null(Exchange(server, TestDhcp.Message(DhcpMessageType.Release, Client, clientAddress: address, serverId: Gateway), T0));
        Assert.Null(server.Pool.LeaseOf(Client));
        Assert.Equal(address, Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Other, requested: address), T0)).Message.YourAddress);
    }

    [Fact]
    public void ReleaseOrDeclineOfAnotherClientsAddressChangesNothingAndIsCounted()
    {
        var server = NewServer();
        var address = Lease(server, Client, T0);
        Assert.Null(Exchange(server, TestDhcp.Message(DhcpMessageType.Release, Other, clientAddress: address), T0));
        Assert.Null(Exchange(server, TestDhcp.Message(DhcpMessageType.Decline, Other, requested: address), T0));
        Assert.Equal(DhcpLeaseState.Bound, server.Pool.LeaseOf(Client)!.State);
        Assert.Equal(Client, server.Bindings.HolderOf(address, T0));
        Assert.Equal(2, server.Counters.NotOwner);
    }

    [Fact]
    public void DeclineQuarantinesTheAddress()
    {
        var server = NewServer();
        var address = Lease(server, Client, T0);
        // RFC 2131 §4.4.1: the client found the address in use; it names it in option 50.
        Assert.Null(Exchange(server, TestDhcp.Message(DhcpMessageType.Decline, Client, requested: address, serverId: Gateway), T0));
        Assert.Equal(DhcpLeaseState.Declined, server.Pool.HolderOf(address)!.State);

        var next = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Client, requested: address), T0 + TimeSpan.FromSeconds(10)));
        Assert.NotEqual(address, next.Message.YourAddress);
    }

    [Fact]
    public void AReservedAddressIsNakkedToOthersAndAckedToItsClient()
    {
        var server = NewServer();
        server.Pool.Reserve(Client, First);
        var nak = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, Other, requested: First), T0));
        Assert.Equal(DhcpMessageType.Nak, nak.Type);
        var offer = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Client), T0));
        Assert.Equal(First, offer.Message.YourAddress);
        var ack = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Request, Client, requested: First, serverId: Gateway), T0));
        Assert.Equal(DhcpMessageType.Ack, ack.Type);
    }

    [Fact]
    public void AnExhaustedPoolLeavesDiscoversUnanswered()
    {
        var server = NewServer(maxLeases: 1);
        Lease(server, Client, T0);
        Assert.Null(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Other), T0));
        Assert.Equal(1, server.Pool.Counters.Exhausted);
        Assert.Equal(1, server.Counters.Ignored);
    }

    public static TheoryData<string> MalformedCases => ["short", "no cookie", "token ring", "long chaddr", "bootreply"];

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void MalformedInputIsIgnoredAndCounted(string name)
    {
        byte[] message = TestDhcp.Message(DhcpMessageType.Discover, Client);
        message = name switch
        {
            "short" => message[..(DhcpMessage.FixedLength - 1)],
            "no cookie" => Corrupt(message, 236),
            "token ring" => Corrupt(message, 1, 6),
            "long chaddr" => Corrupt(message, 2, 16),
            _ => Corrupt(message, 0, DhcpOpcode.BootReply),
        };
        var server = NewServer();
        Assert.Null(Exchange(server, message, T0, frameSource: Client));
        Assert.Equal(1, server.Counters.Requests);
        Assert.Equal(1, server.Counters.Malformed);
        Assert.Equal(0, server.Pool.Count);
    }

    private static byte[] Corrupt(byte[] message, int offset, byte value = 0xEE)
    {
        message[offset] = value;
        return message;
    }

    [Fact]
    public void RelayedRequestsAreIgnoredAndCounted()
    {
        // A guest is always on the virtual LAN itself; a giaddr means someone is playing relay.
        var server = NewServer();
        var relayed = TestDhcp.Message(DhcpMessageType.Discover, Client, relay: Ipv4Address.Parse("10.1.1.1"));
        Assert.Null(Exchange(server, relayed, T0));
        Assert.Equal(1, server.Counters.Ignored);
        Assert.Equal(0, server.Pool.Count);
    }

    [Theory]
    [InlineData(0x0000_0000_0000UL)]
    [InlineData(0xFFFF_FFFF_FFFFUL)]
    [InlineData(0x0100_5E00_0001UL)]
    public void AClientHardwareAddressThatIsNotUnicastIsIgnored(ulong mac)
    {
        var server = NewServer();
        Assert.Null(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, new MacAddress(mac)), T0, frameSource: Client));
        Assert.Equal(1, server.Counters.Ignored);
        Assert.Equal(0, server.Pool.Count);
    }

    [Theory]
    [InlineData((byte)DhcpMessageType.None)]
    [InlineData((byte)DhcpMessageType.Offer)]
    [InlineData((byte)DhcpMessageType.Ack)]
    [InlineData((byte)DhcpMessageType.Nak)]
    [InlineData((byte)13)]
    public void MessagesAServerDoesNotTakeAreIgnored(byte type)
    {
        var server = NewServer();
        Assert.Null(Exchange(server, TestDhcp.Message((DhcpMessageType)type, Client), T0));
        Assert.Equal(1, server.Counters.Ignored);
    }

    [Fact]
    public void AMessageWithoutAMessageTypeIsIgnored()
    {
        var server = NewServer();
        byte[] message = TestDhcp.Message(DhcpMessageType.Discover, Client);
        message[DhcpMessage.FixedLength] = DhcpOption.End;
        Assert.Null(Exchange(server, message, T0));
        Assert.Equal(1, server.Counters.Ignored);
    }

    [Fact]
    public void OptionsThatDoNotFitAreLeftOutNotCut()
    {
        // 63 DNS servers and a 251-character domain need more than the 1024-byte reply buffer:
        // the search list, last, is refused whole and the reply still ends with End.
        string longest = string.Join('.', Enumerable.Range(0, 4).Select(i => new string((char)('a' + i), 62)));
        var options = Options with
        {
            DnsServers = Enumerable.Range(1, 63).Select(i => Ipv4Address.FromBytes(10, 0, 0, (byte)i)).ToArray(),
            SearchDomains = [longest],
        };
        var server = new DhcpServer(options, new DhcpLeasePool(First, Second, [], 10), stack: null);
        var offer = Ok(Exchange(server, TestDhcp.Message(DhcpMessageType.Discover, Client), T0));
        var received = offer.Options;
        Assert.Equal(DhcpMessageType.Offer, offer.Type);
        Assert.Equal(252, received[DhcpOption.DomainNameServer].Length);
        Assert.Equal(Encoding.ASCII.GetBytes(longest), received[DhcpOption.DomainName]);
        Assert.False(received.ContainsKey(DhcpOption.DomainSearch));
        Assert.True(offer.Bytes.Length <= 1024);
        Assert.Equal(1, server.Counters.Truncated);
    }

    [Fact]
    public void ARepliesOptionsStopAtTheFirstThatDoesNotFit()
    {
        // The buffer's end falls in the DNS servers: they, and everything after them, are left
        // out, and what an address needs (written first) is all there.
        var options = Options with { DnsServers = Enumerable.Range(1, 63).Select(i => Ipv4Address.FromBytes(10, 0, 0, (byte)i)).ToArray() };
        var server = new DhcpServer(options, new DhcpLeasePool(First, Second, [], 10), stack: null);
        byte[] reply = new byte[DhcpMessage.FixedLength + 100];
        int length = server.Handle(TestDhcp.Message(DhcpMessageType.Discover, Client), Client, TestLinks.Of(Client), 1500, T0, reply, out _);

        var offer = new DhcpReply(reply[..length], default);
        var received = offer.Options;
        Assert.Equal(DhcpMessageType.Offer, offer.Type);
        Assert.Equal(First, offer.Message.YourAddress);
        Assert.Equal(Gateway, Address(received[DhcpOption.ServerIdentifier]));
        Assert.Equal(Gateway, Address(received[DhcpOption.Router]));
        Assert.Equal(3600u, UInt32(received[DhcpOption.LeaseTime]));
        Assert.False(received.ContainsKey(DhcpOption.DomainNameServer));
        Assert.False(received.ContainsKey(DhcpOption.InterfaceMtu));
        Assert.False(received.ContainsKey(DhcpOption.DomainSearch));
        Assert.Equal(1, server.Counters.Truncated);
    }
}
