using System.Net;
using System.Net.Sockets;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// Issue 12's rule on the host's loopback, against a real guest kernel: 0.0.0.0/8, 127.0.0.0/8,
/// ::, ::1 and their mapped forms are reachable only as the host address, and only while
/// network.hostLoopback is on. Each test keeps a socket of its own on the host's loopback as
/// the witness, and checks that nothing the guest did reached it.
/// </summary>
public sealed class HostLoopbackTests
{
    private const string Proxy = "http://192.168.65.1:3128";
    private const string HostV4 = "192.168.65.254";
    private const string HostV6 = "fdc4:f303:9324::254";
    private static readonly IpEndpoint GuestV4 = new(TestFrames.Guest, 40123);
    private static readonly IpEndpoint GuestV6 = new(Ipv6Address.Parse("fdc4:f303:9324::3"), 40123);

    /// <summary>The first frame on the guest's link within <paramref name="timeout"/> that <paramref name="match"/> accepts, or null.</summary>
    private static byte[]? AwaitFrame(GuestPacketSocket socket, Func<byte[], bool> match, TimeSpan timeout)
    {
        socket.SetReceiveTimeout(TimeSpan.FromMilliseconds(200));
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (socket.Receive() is { } frame && match(frame))
            {
                return frame;
            }
        }
        return null;
    }

    private static TcpListener ListenOnLoopback(IPAddress loopback)
    {
        var listener = new TcpListener(loopback, 0);
        listener.Start();
        return listener;
    }

    private static int PortOf(TcpListener listener) => ((IPEndPoint)listener.LocalEndpoint).Port;

    [RootTheory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("127.0.0.1", "::ffff:127.0.0.1")]
    [InlineData("::1", "::1")]
    public void ASynToTheHostsLoopbackForgedOntoTheLinkGetsRstAndReachesNothing(string listenOn, string destination)
    {
        using var witness = ListenOnLoopback(IPAddress.Parse(listenOn));
        var remote = new IpEndpoint(IpAddress.Parse(destination), (ushort)PortOf(witness));
        // The guest's own kernel never sends to a loopback address over tap0: only a forged frame does.
        using var session = GuestSession.Start();
        var mac = session.GuestMac();
        using var socket = session.OpenPacketSocket();
        var guest = destination.Contains(':') ? GuestV6 : GuestV4;

        socket.Send(TestFrames.Tcp(mac, guest, remote, 1000, 0, TcpFlags.Syn, options: TcpSynOptionBytes.Build()));
        var answer = AwaitFrame(socket,
            f => SentSegment.TryParse(CompleteTcpChecksum(f), out var s) && s!.Destination == guest && s.Source.Port == remote.Port,
            TimeSpan.FromSeconds(5));

        Assert.False(witness.Pending(), $"a connection reached the host's {listenOn}");
        Assert.NotNull(answer);
        var segment = SentSegment.Parse(CompleteTcpChecksum(answer));
        Assert.True(segment.Has(TcpFlags.Rst), $"expected RST, got {segment}");
        Assert.True(GuestSession.Drop(session.Stats(), "tcpRefused") >= 1);
    }

    [RootTheory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::1", "::1")]
    public void AUdpDatagramToTheHostsLoopbackForgedOntoTheLinkIsRefusedAndReachesNothing(string listenOn, string destination)
    {
        using var witness = new UdpClient(new IPEndPoint(IPAddress.Parse(listenOn), 0));
        int port = ((IPEndPoint)witness.Client.LocalEndPoint!).Port;
        using var session = GuestSession.Start();
        var mac = session.GuestMac();
        using var socket = session.OpenPacketSocket();
        var to = new IpEndpoint(IpAddress.Parse(destination), (ushort)port);

        socket.Send(NatHarness.UdpFrame(to.Address.IsV4 ? GuestV4 : GuestV6, to, "forged"u8, mac));
        var error = AwaitFrame(socket, f => IsIcmpErrorTo(f, to.Address.IsV4), TimeSpan.FromSeconds(3));

        Assert.Equal(0, witness.Available);
        Assert.NotNull(error);
        Assert.True(GuestSession.Drop(session.Stats(), "egressRefused") >= 1);
    }

    /// <summary>
    /// Usernet leaves the TCP checksum of what it sends a TAP guest partial (virtio-net's
    /// NEEDS_CSUM): a packet socket in the guest sees the frame before anything sums it, as a
    /// capture on a NIC with checksum offload does. Completing it here keeps the check that the
    /// pseudo-header's sum Usernet wrote is right.
    /// </summary>
    private static byte[] CompleteTcpChecksum(byte[] frame)
    {
        if (!EthernetFrame.TryParse(frame, out var ethernet) || ethernet.Source != TestFrames.StackMac)
        {
            return frame;
        }
        const int Ip = EthernetFrame.HeaderLength;
        bool tcp = ethernet.EtherType == EtherType.Ipv4 ? frame.Length > Ip + 9 && frame[Ip + 9] == IpProtocol.Tcp
            : ethernet.EtherType == EtherType.Ipv6 && frame.Length > Ip + 6 && frame[Ip + 6] == IpProtocol.Tcp;
        if (!tcp)
        {
            return frame;
        }
        byte[] complete = (byte[])frame.Clone();
        int start = Ip + (ethernet.EtherType == EtherType.Ipv4 ? Ipv4Packet.MinHeaderLength : Ipv6Packet.HeaderLength);
        return InternetChecksum.CompletePartial(complete, start, TcpSegment.ChecksumOffset) ? complete : frame;
    }

    /// <summary>Whether a frame is an ICMP destination unreachable (or ICMPv6's) from Usernet to the guest.</summary>
    private static bool IsIcmpErrorTo(byte[] frame, bool v4)
    {
        if (!EthernetFrame.TryParse(frame, out var ethernet) || ethernet.Source != TestFrames.StackMac)
        {
            return false;
        }
        if (v4)
        {
            return ethernet.EtherType == EtherType.Ipv4 && Ipv4Packet.TryParse(ethernet.Payload, out var ip) == Ipv4ParseError.None
                && ip.Protocol == IpProtocol.Icmp && ip.Payload.Length > 0 && ip.Payload[0] == IcmpV4Type.DestinationUnreachable;
        }
        return ethernet.EtherType == EtherType.Ipv6 && Ipv6Packet.TryParse(ethernet.Payload, out var ip6) == Ipv6ParseError.None
            && ip6.NextHeader == IpProtocol.Icmpv6 && ip6.Payload.Length > 0 && ip6.Payload[0] == Icmpv6Type.DestinationUnreachable;
    }

    [RootTheory]
    // `curl -x http://192.168.65.1:3128 http://0.0.0.0:PORT/` reached the host's 127.0.0.1 with
    // hostLoopback off: the proxy refused 127/8 and ::1 but not 0.0.0.0 or ::.
    [InlineData(false, "127.0.0.1", "0.0.0.0")]
    [InlineData(false, "::1", "[::]")]
    [InlineData(false, "127.0.0.1", "127.0.0.1")]
    // Named directly, the host's loopback is refused even while the host address leads to it.
    [InlineData(true, "127.0.0.1", "127.0.0.1")]
    [InlineData(true, "127.0.0.1", "0.0.0.0")]
    [InlineData(true, "::1", "[::1]")]
    [InlineData(true, "::1", "[::]")]
    [InlineData(true, "127.0.0.1", "[::ffff:127.0.0.1]")]
    public void TheProxyRefusesTheHostsLoopbackNamedDirectly(bool hostLoopback, string listenOn, string host)
    {
        using var witness = ListenOnLoopback(IPAddress.Parse(listenOn));
        using var session = GuestSession.Start("--set", $"network.hostLoopback={(hostLoopback ? "true" : "false")}");

        var result = session.Exec(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "5", "-x", Proxy, $"http://{host}:{PortOf(witness)}/"]);

        Assert.False(witness.Pending(), $"the proxy reached the host's {listenOn}: {result}");
        Assert.Equal("502", result.Stdout.Trim());
    }

    [RootTheory]
    [InlineData(true, "200")]
    [InlineData(false, "502")]
    public void TheProxyReachesTheHostLoopbackAsTheHostAddressOnlyWhileHostLoopbackIsOn(bool hostLoopback, string status)
    {
        using var nginx = Nginx.Start();
        using var session = GuestSession.Start("--set", $"network.hostLoopback={(hostLoopback ? "true" : "false")}");

        var result = session.Exec(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10", "-x", Proxy, $"http://{HostV4}:{nginx.Port}/"]);

        Assert.Equal(status, result.Stdout.Trim());
    }

    [RootTheory]
    [InlineData(HostV4)]
    [InlineData(HostV6)]
    public void PingToTheHostAddressIsFilteredWithHostLoopbackOff(string host)
    {
        using var on = GuestSession.Start();
        var answered = on.Exec(["ping", "-c", "1", "-W", "3", host]);
        Assert.True(answered.ExitCode == 0, answered.ToString());

        using var off = GuestSession.Start("--set", "network.hostLoopback=false");
        var refused = off.Exec(["ping", "-c", "1", "-W", "3", host]);

        Assert.NotEqual(0, refused.ExitCode);
        Assert.DoesNotContain("bytes from", refused.Stdout);
        Assert.True(GuestSession.Drop(off.Stats(), "egressRefused") >= 1, refused.ToString());
    }

    [RootTheory]
    [InlineData("127.0.0.1", HostV4)]
    [InlineData("::1", HostV6)]
    public void UdpToTheHostAddressWithHostLoopbackOffReachesNothing(string listenOn, string host)
    {
        using var witness = new UdpClient(new IPEndPoint(IPAddress.Parse(listenOn), 0));
        int port = ((IPEndPoint)witness.Client.LocalEndPoint!).Port;
        using var session = GuestSession.Start("--set", "network.hostLoopback=false");

        // socat reports the ICMP error on its next read: the send itself succeeds.
        var result = session.Shell($"echo x | socat -T 2 - 'UDP:{(host.Contains(':') ? $"[{host}]" : host)}:{port}'");

        Thread.Sleep(200);
        Assert.Equal(0, witness.Available);
        Assert.True(GuestSession.Drop(session.Stats(), "egressRefused") >= 1, result.ToString());
    }
}
