using Usernet.Services.Dhcp;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// A hostile guest sends malformed, truncated and flooding frames from inside the namespace.
/// Each is dropped and counted, and the stack still answers ping afterwards.
/// </summary>
public sealed class HostileInputTests
{
    private static void AssertStillAnswersPing(GuestSession session)
    {
        var ping = session.Exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", "192.168.65.1"]);
        Assert.True(ping.ExitCode == 0, ping.ToString());
        Assert.Contains("3 received", ping.Stdout);
    }

    [RootFact]
    public void MalformedFramesAreDroppedAndCounted()
    {
        using var session = GuestSession.Start("--mtu", "1500");
        var mac = session.GuestMac();
        using var socket = session.OpenPacketSocket();
        var guest = TestFrames.Guest;
        var gateway = TestFrames.Gateway;
        var stack = TestFrames.StackMac;

        for (int round = 0; round < 20; round++)
        {
            // IPv4 header cut short.
            var truncated = TestFrames.IcmpEcho(mac, guest, gateway, 1, 1);
            socket.Send(truncated.AsSpan(0, EthernetFrame.HeaderLength + 12));

            var badVersion = TestFrames.IcmpEcho(mac, guest, gateway, 1, 2);
            badVersion[EthernetFrame.HeaderLength] = 0x55;
            TestFrames.FixIpv4Checksum(badVersion);
            socket.Send(badVersion);

            var shortHeader = TestFrames.IcmpEcho(mac, guest, gateway, 1, 3);
            shortHeader[EthernetFrame.HeaderLength] = 0x44;
            socket.Send(shortHeader);

            var longHeader = TestFrames.IcmpEcho(mac, guest, gateway, 1, 4, dataLength: 0);
            longHeader[EthernetFrame.HeaderLength] = 0x4F;
            socket.Send(longHeader);

            var badTotal = TestFrames.IcmpEcho(mac, guest, gateway, 1, 5);
            badTotal[EthernetFrame.HeaderLength + 2] = 0x07;
            TestFrames.FixIpv4Checksum(badTotal);
            socket.Send(badTotal);

            var badChecksum = TestFrames.IcmpEcho(mac, guest, gateway, 1, 6);
            badChecksum[EthernetFrame.HeaderLength + 10] ^= 0xFF;
            socket.Send(badChecksum);

            var badIcmp = TestFrames.IcmpEcho(mac, guest, gateway, 1, 7);
            badIcmp[^1] ^= 0xFF;
            socket.Send(badIcmp);

            var badUdp = TestFrames.Udp(mac, stack, guest, gateway, 68, 67, new byte[40]);
            badUdp[^1] ^= 0xFF;
            socket.Send(badUdp);

            var shortUdp = TestFrames.Udp(mac, stack, guest, gateway, 68, 67, new byte[40]);
            shortUdp[EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength + 5] = 4;
            socket.Send(shortUdp);

            var spoofed = TestFrames.IcmpEcho(mac, Ipv4Address.Parse("198.18.9.9"), gateway, 1, 8);
            socket.Send(spoofed);

            byte[] badArp = new byte[EthernetFrame.HeaderLength + ArpPacket.Length];
            EthernetFrame.WriteHeader(badArp, MacAddress.Broadcast, mac, EtherType.Arp);
            ArpPacket.Write(badArp.AsSpan(EthernetFrame.HeaderLength), ArpOperation.Request, mac, guest, MacAddress.Zero, gateway);
            badArp[EthernetFrame.HeaderLength + 4] = 8;
            socket.Send(badArp);

            byte[] unknown = new byte[60];
            EthernetFrame.WriteHeader(unknown, stack, mac, 0x88B5);
            socket.Send(unknown);
        }

        // Garbage with an IPv4 EtherType, of every length a frame can have.
        var random = new Random(1234);
        for (int i = 0; i < 2000; i++)
        {
            byte[] garbage = new byte[random.Next(EthernetFrame.HeaderLength, 1514)];
            random.NextBytes(garbage);
            EthernetFrame.WriteHeader(garbage, stack, mac, EtherType.Ipv4);
            socket.Send(garbage);
        }

        AssertStillAnswersPing(session);
        var stats = session.Stats();
        foreach (string reason in new[]
        {
            "ipv4Truncated", "ipv4BadVersion", "ipv4BadHeaderLength", "ipv4BadTotalLength", "ipv4BadChecksum",
            "icmpBadChecksum", "udpBadChecksum", "udpMalformed", "ipv4BadSource", "arpMalformed", "unknownEtherType",
        })
        {
            Assert.True(GuestSession.Drop(stats, reason) >= 20, $"{reason}: {GuestSession.Drop(stats, reason)}\n{stats}");
        }
        Assert.Equal(0, stats.GetProperty("loopFaults").GetInt64());
    }

    [RootFact]
    public void OverlappingAndEndlessFragmentsStayWithinLimits()
    {
        using var session = GuestSession.Start("--mtu", "1500");
        var mac = session.GuestMac();
        using var socket = session.OpenPacketSocket();
        var guest = TestFrames.Guest;
        var gateway = TestFrames.Gateway;
        var stack = TestFrames.StackMac;

        // Two fragments of one datagram that overlap (the classic teardrop shape).
        for (ushort id = 100; id < 120; id++)
        {
            socket.Send(TestFrames.Ipv4(mac, stack, guest, gateway, IpProtocol.Udp, new byte[800], id, moreFragments: true));
            socket.Send(TestFrames.Ipv4(mac, stack, guest, gateway, IpProtocol.Udp, new byte[800], id, fragmentOffset: 400));
        }
        // Thousands of first fragments that are never completed.
        for (int i = 0; i < 3000; i++)
        {
            socket.Send(TestFrames.Ipv4(mac, stack, guest, gateway, IpProtocol.Udp, new byte[64], (ushort)(1000 + i), moreFragments: true));
        }

        AssertStillAnswersPing(session);
        var stats = session.Stats();
        Assert.True(GuestSession.Drop(stats, "ipv4FragmentDropped") >= 20, stats.ToString());
        Assert.True(stats.GetProperty("stack").GetProperty("pendingReassemblies").GetInt32() <= 64, stats.ToString());

        // A real fragmented ping, larger than the 1500-byte MTU, is still put together.
        var big = session.Exec(["ping", "-c", "2", "-i", "0.2", "-W", "2", "-s", "4000", "192.168.65.1"]);
        Assert.True(big.ExitCode == 0, big.ToString());
        Assert.Contains("4008 bytes from 192.168.65.1", big.Stdout);
    }

    [RootFact]
    public void ADhcpFloodFromRandomMacsCannotTakeTheGuestsAddress()
    {
        using var session = GuestSession.Start();
        using var socket = session.OpenPacketSocket();
        for (uint i = 0; i < 3000; i++)
        {
            socket.Send(TestFrames.DhcpDiscover(MacAddress.NewLocal(), i));
        }
        AssertStillAnswersPing(session);
        // The link holds at most its share of offers (and the guest's reservation); the rest of the flood is turned away.
        var dhcp = session.Stats().GetProperty("dhcp");
        Assert.True(dhcp.GetProperty("leases").GetInt32() <= DhcpServer.MaxLeasesPerLink + 1, dhcp.ToString());
        // Under load the TAP's queue may drop part of the flood before Usernet reads it: what
        // counts is that every request that arrived past the share was turned away.
        long requests = dhcp.GetProperty("requests").GetInt64();
        Assert.True(requests > 10 * DhcpServer.MaxLeasesPerLink, dhcp.ToString());
        Assert.True(dhcp.GetProperty("linkLimit").GetInt64() >= requests - DhcpServer.MaxLeasesPerLink, dhcp.ToString());

        // The real guest still gets its own address by DHCP.
        var udhcpc = session.Exec(["busybox", "udhcpc", "-i", "tap0", "-q", "-n", "-f", "-t", "5", "-s", "/bin/true"]);
        Assert.True(udhcpc.ExitCode == 0, udhcpc.ToString());
        Assert.Contains("lease of 192.168.65.3 obtained", udhcpc.Output);
    }
}
