using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.EndToEnd;

/// <summary>IPv6 for the guest: SLAAC, RDNSS, DHCPv6, and TCP, UDP and ping through host sockets; the networking modes.</summary>
public sealed class Ipv6Tests
{
    private static ProcessResult Run(params string[] arguments) =>
        ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", .. arguments], TimeSpan.FromSeconds(90));

    [RootFact]
    public void TheGuestGetsASlaacAddressAndTheAdvertisedDns()
    {
        var result = Run("--addressing", "none", "--", "sh", "-c", "sleep 1; ip -6 -o addr show dev tap0 scope global; rdisc6 -1 -w 2000 tap0");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"inet6 fdc4:f303:9324:0:[0-9a-f:]+/64 scope global dynamic", result.Stdout);
        Assert.Contains("Recursive DNS server     : fdc4:f303:9324::1", result.Stdout);
        Assert.Contains("Prefix                   : fdc4:f303:9324::/64", result.Stdout);
        Assert.Contains("MTU                      :        65520 bytes", result.Stdout);
    }

    [RootFact]
    public void ADhcpv6ClientGetsItsLeaseAndDns()
    {
        var result = Run("--addressing", "none", "--", "sh", "-c",
            "timeout 10 dhclient -6 -1 -lf /dev/stdout -pf /dev/null -sf /bin/true tap0 2>/dev/null");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"iaaddr fdc4:f303:9324::[0-9a-f]+ \{", result.Stdout);
        Assert.Contains("option dhcp6.name-servers fdc4:f303:9324::1;", result.Stdout);
    }

    [RootFact]
    public void CurlOverIpv6ReachesNginxOnTheHostsIpv6Loopback()
    {
        using var nginx = Nginx.Start("::1");
        var result = Run("--", "curl", "-6", "-sS", "-m", "10", $"http://[fdc4:f303:9324::254]:{nginx.Port}/");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hello from nginx\n", result.Stdout);
    }

    [RootFact]
    public void Ping6ReachesTheGatewayTheHostAndATestHost()
    {
        using var host = TestHost.Create();
        var result = Run("--", "sh", "-c",
            $"ping -6 -c 1 -W 2 fdc4:f303:9324::1 && ping -6 -c 1 -W 2 fdc4:f303:9324::254 && ping -6 -c 2 -i 0.2 -W 2 {host.Address6}");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"from {host.Address6}", result.Stdout);
    }

    [RootFact]
    public void TcpOverIpv6ToATestHostIsIntactBothWays()
    {
        using var host = TestHost.Create();
        using var blob = new Blob(256L << 20);
        string received = blob.ReceivedPath;
        using var session = GuestSession.Start();

        using var receiver = host.Start("socat", "-u", "TCP6-LISTEN:9001,reuseaddr", $"CREATE:{received}");
        Assert.True(Wait.Until(() => host.Exec("ss", "-Hltn").Contains(":9001"), 5));
        ProcessRunner.Check(session.Shell($"socat -u FILE:{blob.Path} TCP6:[{host.Address6}]:9001", TimeSpan.FromMinutes(2)));
        Assert.True(receiver.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(blob.Sha256, Blob.Sha256Of(received));
        File.Delete(received);

        using var sender = host.Start("socat", "-u", $"FILE:{blob.Path}", "TCP6-LISTEN:9002,reuseaddr");
        Assert.True(Wait.Until(() => host.Exec("ss", "-Hltn").Contains(":9002"), 5));
        ProcessRunner.Check(session.Shell($"socat -u TCP6:[{host.Address6}]:9002 CREATE:{received}", TimeSpan.FromMinutes(2)));
        Assert.Equal(blob.Sha256, Blob.Sha256Of(received));
    }

    [RootFact]
    public void AGuestUsesBothFamiliesAtOnce()
    {
        using var host = TestHost.Create();
        using var nginx = Nginx.Start("0.0.0.0", host);
        var result = Run("--", "sh", "-c",
            $"curl -sS -m 10 http://{host.Address}:{nginx.Port}/ & curl -sS -m 10 http://[{host.Address6}]:{nginx.Port}/ & wait");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(2, result.Stdout.Split("hello from nginx").Length - 1);
    }

    [RootFact]
    public void Ipv4OnlyOffersNoIpv6AndRefusesIt()
    {
        var result = Run("--set", "defaultNetworkingMode=ipv4only", "--", "sh", "-c",
            "ip -6 -o addr show dev tap0 | wc -l; ip -4 -o addr show dev tap0; curl -6 -sS -m 3 http://[fdc4:f303:9324::254]:80/; echo \"v6 exit $?\"");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("0\n", result.Stdout);
        Assert.Contains("inet 192.168.65.3/24", result.Stdout);
        // With no address and no route the guest's own kernel refuses: nothing reaches Usernet.
        Assert.Contains("v6 exit 7", result.Stdout);

        // A VM that sends IPv6 anyway is not answered: its frames are dropped and counted.
        using var session = GuestSession.Start("--set", "defaultNetworkingMode=ipv4only");
        using var socket = session.OpenPacketSocket();
        var guestMac = session.GuestMac();
        byte[] frame = new byte[EthernetFrame.HeaderLength + Ipv6Packet.HeaderLength + 8];
        EthernetFrame.WriteHeader(frame, TestFrames.StackMac, guestMac, EtherType.Ipv6);
        Ipv6Packet.WriteHeader(frame.AsSpan(EthernetFrame.HeaderLength), Ipv6Address.Parse("fe80::1"), Ipv6Address.Parse("fdc4:f303:9324::1"),
            IpProtocol.Icmpv6, 8, 64);
        socket.Send(frame);
        Assert.True(Wait.Until(() => GuestSession.Drop(session.Stats(), "ipv6Disabled") >= 1, 5));
    }

    [RootFact]
    public void Ipv6OnlyGivesNoIpv4Lease()
    {
        var result = Run("--set", "defaultNetworkingMode=ipv6only", "--addressing", "none", "--", "sh", "-c",
            "busybox udhcpc -i tap0 -q -n -t 2 -T 1 -s /bin/true; echo \"udhcpc exit $?\"; sleep 1; ip -6 -o addr show dev tap0 scope global | wc -l");
        Assert.Contains("udhcpc exit 1", result.Stdout);
        Assert.EndsWith("1\n", result.Stdout);
    }

    [RootFact]
    public void AutoFollowsTheHostsOwnIpv6()
    {
        bool hostHasIpv6 = ProcessRunner.Run("ip", "-6", "route", "show", "default").Stdout.Contains("via");
        var result = Run("--set", "defaultNetworkingMode=auto", "--", "sh", "-c", "ip -6 -o addr show dev tap0 scope global | wc -l");
        int addresses = int.Parse(result.Stdout.Trim());
        Assert.True(hostHasIpv6 ? addresses >= 1 : addresses == 0, $"host IPv6: {hostHasIpv6}, guest addresses: {addresses}");
    }

    [RootFact]
    public void HostileNdpAndFragmentFloodsAreDroppedAndCounted()
    {
        using var session = GuestSession.Start();
        using var socket = session.OpenPacketSocket();
        var guestMac = session.GuestMac();
        var source = Ipv6Address.Parse("fe80::1:2");
        var gateway = Ipv6Address.Parse("fdc4:f303:9324::1");
        for (int i = 0; i < 50; i++)
        {
            // A neighbor solicitation whose option claims length 0 (RFC 4861 §4.6 forbids it).
            byte[] ns = new byte[24 + 8];
            ns[0] = Icmpv6Type.NeighborSolicitation;
            gateway.Write(ns.AsSpan(8));
            ns[24] = NdpOption.SourceLinkLayerAddress;
            ns[25] = 0;
            socket.Send(Ipv6Frame(guestMac, source, gateway.SolicitedNode, IpProtocol.Icmpv6, ns, hopLimit: 255, icmp: true));
            // A solicitation that did not come from the link (hop limit below 255).
            byte[] forwarded = new byte[24];
            forwarded[0] = Icmpv6Type.NeighborSolicitation;
            gateway.Write(forwarded.AsSpan(8));
            socket.Send(Ipv6Frame(guestMac, source, gateway.SolicitedNode, IpProtocol.Icmpv6, forwarded, hopLimit: 64, icmp: true));
        }
        // First fragments that never complete, each of its own datagram.
        for (uint id = 0; id < 3000; id++)
        {
            byte[] fragment = new byte[8 + 64];
            Ipv6Packet.WriteFragmentHeader(fragment, IpProtocol.Udp, 0, moreFragments: true, id);
            socket.Send(Ipv6Frame(guestMac, source, gateway, IpProtocol.Ipv6Fragment, fragment, hopLimit: 64, icmp: false));
        }
        var ping = session.Exec(["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "fdc4:f303:9324::1"]);
        Assert.True(ping.ExitCode == 0, ping.ToString());
        var stats = session.Stats();
        Assert.True(GuestSession.Drop(stats, "ndpMalformed") >= 100, stats.ToString());
        Assert.True(stats.GetProperty("stack").GetProperty("pendingReassemblies6").GetInt32() <= 64, stats.ToString());
        Assert.Equal(0, stats.GetProperty("loopFaults").GetInt64());
    }

    private static byte[] Ipv6Frame(MacAddress sourceMac, Ipv6Address source, Ipv6Address destination, byte nextHeader, byte[] payload, byte hopLimit, bool icmp)
    {
        byte[] frame = TestFrames.Ipv6(sourceMac, source, destination, nextHeader, payload, hopLimit);
        if (icmp)
        {
            new Icmpv6Message(frame.AsSpan(EthernetFrame.HeaderLength + Ipv6Packet.HeaderLength)).FillChecksum(
                InternetChecksum.PseudoHeaderV6(source, destination, IpProtocol.Icmpv6, payload.Length));
        }
        return frame;
    }
}
