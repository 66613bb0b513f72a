using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// Two guests on one `usernet serve` LAN, each a real kernel in its own namespace: B forges
/// A's MAC, A's address, DHCP messages in A's name, a router advertisement and DHCP server
/// messages from raw sockets. A keeps its lease and its traffic, B's forgeries reach neither A
/// nor the gateway, and each is counted in `usernet stats`.
/// </summary>
public sealed class LanIsolationTests
{
    private const ushort GuestPort = 7777;
    private static readonly Ipv4Address Gateway = Ipv4Address.Parse("192.168.65.1");
    private static readonly Ipv6Address LinkLocalB = Ipv6Address.Parse("fe80::bb");
    private static readonly Ipv6Address AllNodes = Ipv6Address.Parse("ff02::1");

    private static JsonElement Switch(TwoGuestLan lan) => lan.Stats().GetProperty("switch");

    /// <summary>A still has its lease, and reaches the gateway and the host.</summary>
    private static void AssertAKeepsItsAddressAndTraffic(TwoGuestLan lan)
    {
        var leases = lan.Leases();
        Assert.True(leases.TryGetValue(TwoGuestLan.AddressA.ToString(), out var lease) && lease == (TwoGuestLan.MacA.ToString(), "bound"),
            $"A's lease is not A's any more: {string.Join(", ", leases.Select(l => $"{l.Key} {l.Value}"))}");
        string ping = lan.A.Exec("sh", "-c", "ping -c 2 -i 0.2 -W 2 192.168.65.1; ping -c 2 -i 0.2 -W 2 192.168.65.254");
        Assert.Equal(2, ping.Split("2 received").Length - 1);
    }

    /// <summary>Gives what was sent time to be handled, then reads the counters.</summary>
    private static JsonElement SettledStats(TwoGuestLan lan)
    {
        Thread.Sleep(500);
        return lan.Stats();
    }

    /// <summary>A DHCP client message from B's raw socket: from B's own MAC and address, in the name of <paramref name="client"/>.</summary>
    private static byte[] DhcpFromB(DhcpMessageType type, MacAddress client, Ipv4Address clientAddress, Ipv4Address? requested = null)
    {
        byte[] dhcp = TestDhcp.Message(type, client, clientAddress: clientAddress, requested: requested, serverId: Gateway);
        return TestFrames.Udp(TwoGuestLan.MacB, TestFrames.StackMac, TwoGuestLan.AddressB, Gateway, 68, 67, dhcp);
    }

    [RootFact]
    public void AGuestCannotReleaseOrDeclineAnothersLease()
    {
        using var lan = TwoGuestLan.Start();
        using (var b = TwoGuestLan.Socket(lan.B, lan.TapB))
        {
            // A's MAC in chaddr, then B's own with A's address.
            b.Send(DhcpFromB(DhcpMessageType.Release, TwoGuestLan.MacA, TwoGuestLan.AddressA));
            b.Send(DhcpFromB(DhcpMessageType.Decline, TwoGuestLan.MacA, Ipv4Address.Any, requested: TwoGuestLan.AddressA));
            b.Send(DhcpFromB(DhcpMessageType.Release, TwoGuestLan.MacB, TwoGuestLan.AddressA));
        }
        var dhcp = SettledStats(lan).GetProperty("dhcp");
        AssertAKeepsItsAddressAndTraffic(lan);
        Assert.Equal(2, dhcp.GetProperty("notFromClient").GetInt64());
        Assert.Equal(1, dhcp.GetProperty("notOwner").GetInt64());

        // A renews its own lease as ever.
        string renewed = lan.A.Exec("sh", "-c", $"busybox udhcpc -i {lan.TapA} -q -n -f -t 5 -s /bin/true 2>&1");
        Assert.Contains($"lease of {TwoGuestLan.AddressA} obtained", renewed);
    }

    [RootFact]
    public void AGuestSendingFromAnothersMacGetsNoneOfItsFrames()
    {
        // Everything this test sends to A goes through the stack's neighbour table and the switch's MAC table.
        int port = Ports.Free();
        using var lan = TwoGuestLan.Start("-p", $"127.0.0.1:{port}:{GuestPort}/udp");
        // A gratuitous ARP that is A's in every byte, but from B's link.
        byte[] forged = TestFrames.ArpRequest(TwoGuestLan.MacA, TwoGuestLan.AddressA, TwoGuestLan.AddressA);
        var (toA, toB) = SendToAWhileBForges(lan, port, forged);
        Assert.Equal(0, toB);
        Assert.Equal(Datagrams, toA);
        Assert.True(Switch(lan).GetProperty("macSpoofed").GetInt64() >= Datagrams, lan.ToString());
        AssertAKeepsItsAddressAndTraffic(lan);
    }

    [RootFact]
    public void AGuestClaimingAnothersAddressGetsNoneOfItsTraffic()
    {
        int port = Ports.Free();
        using var lan = TwoGuestLan.Start("-p", $"127.0.0.1:{port}:{GuestPort}/udp");
        // B, from its own MAC, tells the gateway that A's address is its own (ARP spoofing).
        byte[] arp = new byte[ArpPacket.Length];
        ArpPacket.Write(arp, ArpOperation.Reply, TwoGuestLan.MacB, TwoGuestLan.AddressA, TestFrames.StackMac, Gateway);
        byte[] forged = TestFrames.Ethernet(TwoGuestLan.MacB, TestFrames.StackMac, EtherType.Arp, arp);
        var (toA, toB) = SendToAWhileBForges(lan, port, forged);
        Assert.Equal(0, toB);
        Assert.Equal(Datagrams, toA);
        Assert.True(Switch(lan).GetProperty("addressSpoofed").GetInt64() >= Datagrams, lan.ToString());

        // Nor can B send from A's address: its ping from there is not answered.
        long echoRepliesBefore = lan.Stats().GetProperty("stack").GetProperty("echoReplies").GetInt64();
        using (var b = TwoGuestLan.Socket(lan.B, lan.TapB))
        {
            b.Send(TestFrames.IcmpEcho(TwoGuestLan.MacB, TwoGuestLan.AddressA, Gateway, 77, 1));
        }
        var stack = SettledStats(lan).GetProperty("stack");
        Assert.Equal(0, stack.GetProperty("echoReplies").GetInt64() - echoRepliesBefore);
        Assert.True(Switch(lan).GetProperty("addressSpoofed").GetInt64() >= Datagrams + 1, lan.ToString());
        AssertAKeepsItsAddressAndTraffic(lan);
    }

    private const int Datagrams = 20;

    /// <summary>
    /// Sends <see cref="Datagrams"/> datagrams from the host to A's published port, B sending
    /// <paramref name="forged"/> before each; returns how many frames carrying them reached A's
    /// link and how many B's.
    /// </summary>
    private static (int ToA, int ToB) SendToAWhileBForges(TwoGuestLan lan, int port, byte[] forged)
    {
        using var a = TwoGuestLan.Socket(lan.A, lan.TapA);
        using var b = TwoGuestLan.Socket(lan.B, lan.TapB);
        using var client = new UdpClient(AddressFamily.InterNetwork);
        for (int i = 0; i < Datagrams; i++)
        {
            b.Send(forged);
            Thread.Sleep(20);
            client.Send(System.Text.Encoding.ASCII.GetBytes($"for A {i}"), new IPEndPoint(IPAddress.Loopback, port));
            Thread.Sleep(20);
        }
        Thread.Sleep(300);
        return (CountDatagramsForA(a), CountDatagramsForA(b));
    }

    /// <summary>The frames a raw socket saw that carry one of the test's datagrams to A's port.</summary>
    private static int CountDatagramsForA(GuestPacketSocket socket)
    {
        socket.SetReceiveTimeout(TimeSpan.FromMilliseconds(200));
        int count = 0;
        while (socket.Receive() is { } frame)
        {
            if (EthernetFrame.TryParse(frame, out var ethernet) && ethernet.EtherType == EtherType.Ipv4
                && Ipv4Packet.TryParse(ethernet.Payload, out var ip) == Ipv4ParseError.None && ip.Protocol == IpProtocol.Udp
                && UdpDatagram.TryParse(ip.Payload, out var udp) && udp.DestinationPort == GuestPort)
            {
                count++;
            }
        }
        return count;
    }

    [RootFact]
    public void NoGuestBecomesAnothersRouterOrDhcpServer()
    {
        using var lan = TwoGuestLan.Start();
        using var a = TwoGuestLan.Socket(lan.A, lan.TapA);
        using (var b = TwoGuestLan.Socket(lan.B, lan.TapB))
        {
            b.Send(TestFrames.Ipv6(TwoGuestLan.MacB, LinkLocalB, AllNodes, IpProtocol.Icmpv6, RogueRouterAdvertisement(), hopLimit: 255));
            b.Send(TestFrames.Udp(TwoGuestLan.MacB, MacAddress.Broadcast, TwoGuestLan.AddressB, Ipv4Address.Broadcast, 67, 68, RogueOffer()));
            b.Send(RogueAdvertise());
        }
        // None of it reached A, and A's only IPv6 router is still the gateway.
        var network = SettledStats(lan).GetProperty("switch");
        a.SetReceiveTimeout(TimeSpan.FromMilliseconds(300));
        while (a.Receive() is { } frame)
        {
            Assert.False(IsServerMessageFromB(frame), $"B's {Convert.ToHexString(frame)} reached A");
        }
        string routes = lan.A.Exec("sh", "-c", "ip -6 route; ip -6 addr");
        Assert.DoesNotContain("fe80::bb", routes);
        Assert.DoesNotContain("2001:db8:bad", routes);
        AssertAKeepsItsAddressAndTraffic(lan);
        Assert.Equal(2, network.GetProperty("dhcpServerMessages").GetInt64());
        Assert.Equal(1, network.GetProperty("routerMessages").GetInt64());
    }

    /// <summary>A router advertisement, or a DHCP or DHCPv6 server message, from B's MAC.</summary>
    private static bool IsServerMessageFromB(byte[] frame)
    {
        if (!EthernetFrame.TryParse(frame, out var ethernet) || ethernet.Source != TwoGuestLan.MacB)
        {
            return false;
        }
        if (ethernet.EtherType == EtherType.Ipv4)
        {
            return Ipv4Packet.TryParse(ethernet.Payload, out var ip) == Ipv4ParseError.None && ip.Protocol == IpProtocol.Udp
                && UdpDatagram.TryParse(ip.Payload, out var udp) && udp.SourcePort == 67;
        }
        if (ethernet.EtherType != EtherType.Ipv6 || Ipv6Packet.TryParse(ethernet.Payload, out var ip6) != Ipv6ParseError.None)
        {
            return false;
        }
        var payload = ip6.Payload;
        return ip6.NextHeader switch
        {
            IpProtocol.Icmpv6 => payload.Length > 0 && payload[0] == Icmpv6Type.RouterAdvertisement,
            IpProtocol.Udp => payload.Length >= 2 && BinaryPrimitives.ReadUInt16BigEndian(payload) == 547,
            _ => false,
        };
    }

    /// <summary>B as a router (RFC 4861 §4.2): default route for 30 minutes, and a prefix to configure addresses from.</summary>
    private static byte[] RogueRouterAdvertisement()
    {
        byte[] message = new byte[16 + 8 + 32];
        message[0] = Icmpv6Type.RouterAdvertisement;
        message[4] = 64;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), 1800);
        int length = 16;
        length += NdpMessage.WriteLinkLayerOption(message.AsSpan(length), NdpOption.SourceLinkLayerAddress, TwoGuestLan.MacB);
        NdpMessage.WritePrefixOption(message.AsSpan(length), Ipv6Address.Parse("2001:db8:bad::"), 64, onLink: true, autonomous: true, 86400, 14400);
        new Icmpv6Message(message).FillChecksum(InternetChecksum.PseudoHeaderV6(LinkLocalB, AllNodes, IpProtocol.Icmpv6, message.Length));
        return message;
    }

    /// <summary>An OFFER of A's address with B as router and DNS server.</summary>
    private static byte[] RogueOffer()
    {
        byte[] discover = TestDhcp.Message(DhcpMessageType.Discover, TwoGuestLan.MacA, broadcast: true);
        byte[] offer = new byte[300];
        DhcpMessage.WriteReply(offer, new DhcpMessage(discover), TwoGuestLan.AddressA, TwoGuestLan.AddressB);
        var writer = new DhcpOptionWriter(offer.AsSpan(DhcpMessage.FixedLength));
        writer.WriteByte(DhcpOption.MessageType, (byte)DhcpMessageType.Offer);
        writer.WriteAddress(DhcpOption.ServerIdentifier, TwoGuestLan.AddressB);
        writer.WriteAddress(DhcpOption.Router, TwoGuestLan.AddressB);
        writer.WriteAddress(DhcpOption.DomainNameServer, TwoGuestLan.AddressB);
        writer.WriteUInt32(DhcpOption.LeaseTime, 3600);
        writer.WriteEnd();
        return offer;
    }

    /// <summary>A DHCPv6 ADVERTISE from B to all nodes (RFC 8415 §16.3).</summary>
    private static byte[] RogueAdvertise()
    {
        byte[] dhcp = new byte[64];
        var message = new Dhcpv6Message(dhcp) { Type = Dhcpv6MessageType.Advertise, TransactionId = 0x123456 };
        var writer = new Dhcpv6OptionWriter(message.Options);
        writer.Write(Dhcpv6Option.ServerId, [0, 3, 0, 1, 2, 0, 0, 0, 0xBB, 1]);
        byte[] udp = new byte[UdpDatagram.HeaderLength + Dhcpv6Message.HeaderLength + writer.Length];
        dhcp.AsSpan(0, udp.Length - UdpDatagram.HeaderLength).CopyTo(udp.AsSpan(UdpDatagram.HeaderLength));
        UdpDatagram.WriteHeader(udp, 547, 546, udp.Length - UdpDatagram.HeaderLength);
        new UdpDatagram(udp).FillChecksum(InternetChecksum.PseudoHeaderV6(LinkLocalB, AllNodes, IpProtocol.Udp, udp.Length));
        return TestFrames.Ipv6(TwoGuestLan.MacB, LinkLocalB, AllNodes, IpProtocol.Udp, udp);
    }
}
