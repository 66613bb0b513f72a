using System.Text;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;
using Usernet.Wire;

namespace Usernet.Tests.EndToEnd;

/// <summary>TCP input no kernel would send: it is refused or ignored, counted, and harms nothing else.</summary>
public sealed class TcpHostileInputTests
{
    private static readonly Ipv4Address Host = Ipv4Address.Parse("192.168.65.254");
    private static readonly Ipv4Address Phantom = Ipv4Address.Parse("192.168.65.50");

    private static long Tcp(GuestSession session, string counter) => session.Stats().GetProperty("tcp").GetProperty(counter).GetInt64();

    [RootFact]
    public void ASegmentForNoConnectionGetsAReset()
    {
        using var session = GuestSession.Start();
        using var peer = new PhantomTcpPeer(session, Phantom);
        peer.Send(Host, 40000, 9, 1000, 5000, TcpFlags.Ack | TcpFlags.Psh, "stray"u8);
        var reset = peer.Receive(40000, TimeSpan.FromSeconds(3));
        Assert.NotNull(reset);
        Assert.Equal(TcpFlags.Rst, reset.Flags);
        Assert.Equal(5000u, reset.Sequence);
        Assert.True(GuestSession.Drop(session.Stats(), "tcpNoFlow") >= 1);
    }

    [RootFact]
    public void ASynWithBrokenOptionsIsDropped()
    {
        using var session = GuestSession.Start();
        using var peer = new PhantomTcpPeer(session, Phantom);
        // MSS option claiming 40 bytes in an 8-byte option area.
        byte[] options = [2, 40, 5, 180, 1, 1, 1, 1];
        peer.Send(Host, 40001, 22, 1, 0, TcpFlags.Syn, options: options);
        Assert.Null(peer.Receive(40001, TimeSpan.FromSeconds(1)));
        Assert.True(GuestSession.Drop(session.Stats(), "tcpMalformed") >= 1);
    }

    [RootFact]
    public async Task ASynFloodPastTheLimitIsRefusedAndHarmsNoEstablishedConnection()
    {
        using var session = GuestSession.Start("--set", "tcp.maxConnections=20");
        using var listener = new LoopbackListener(backlog: 1024);
        int port = listener.Port;
        // An established guest connection that must keep working through the flood.
        var echo = listener.ServeOne(async client =>
        {
            var stream = client.GetStream();
            byte[] buffer = new byte[64];
            int n;
            while ((n = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, n), TestContext.Current.CancellationToken);
            }
        });
        using var established = ManagedProcess.Start("nsenter", [$"--net={session.NetnsPath}", "--", "socat", "-", $"TCP:192.168.65.254:{port}"], redirectInput: true);
        established.StandardInput.WriteLine("before");
        Assert.Equal("before", established.ReadLine(TimeSpan.FromSeconds(30)));

        using var peer = new PhantomTcpPeer(session, Phantom);
        for (ushort i = 0; i < 100; i++)
        {
            peer.Send(Host, (ushort)(41000 + i), (ushort)port, 7000u + i, 0, TcpFlags.Syn, options: PhantomTcpPeer.SynOptions());
        }
        await Task.Delay(1000, TestContext.Current.CancellationToken);
        Assert.True(Tcp(session, "limitReached") >= 80, session.Stats().GetProperty("tcp").ToString());

        established.StandardInput.WriteLine("after");
        Assert.Equal("after", established.ReadLine(TimeSpan.FromSeconds(30)));
        established.StandardInput.Close();
        Assert.True(established.WaitForExit(TimeSpan.FromSeconds(10)));
        await echo.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }

    [RootFact]
    public async Task DataBeyondTheWindowAndAWrongResetChangeNothing()
    {
        using var session = GuestSession.Start();
        using var listener = new LoopbackListener();
        int port = listener.Port;
        var server = listener.ServeOne(async client =>
        {
            byte[] buffer = new byte[4];
            await client.GetStream().ReadExactlyAsync(buffer, TestContext.Current.CancellationToken);
            return Encoding.ASCII.GetString(buffer);
        });
        using var peer = new PhantomTcpPeer(session, Phantom);
        const uint isn = 90000;
        uint theirs = peer.Connect(Host, (ushort)port, 42000, isn);
        ushort hostPort = (ushort)port;

        // Far beyond any window: dropped, answered with an ACK that still expects isn + 1.
        peer.Send(Host, 42000, hostPort, isn + 1 + 100_000_000, theirs + 1, TcpFlags.Ack | TcpFlags.Psh, "junk"u8);
        var ack = peer.Receive(42000, TimeSpan.FromSeconds(3));
        Assert.NotNull(ack);
        Assert.Equal(isn + 1, ack.Acknowledgment);

        // A reset whose sequence is near but not exact: a challenge ACK, and the connection lives (RFC 5961 §3).
        peer.Send(Host, 42000, hostPort, isn + 10, 0, TcpFlags.Rst);
        var challenge = peer.Receive(42000, TimeSpan.FromSeconds(3));
        Assert.NotNull(challenge);
        Assert.Equal(TcpFlags.Ack, challenge.Flags);

        // The connection still carries data to the host.
        peer.Send(Host, 42000, hostPort, isn + 1, theirs + 1, TcpFlags.Ack | TcpFlags.Psh, "real"u8);
        Assert.Equal("real", await server.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        var tcp = session.Stats().GetProperty("tcp");
        Assert.True(tcp.GetProperty("outOfWindow").GetInt64() >= 1, tcp.ToString());
        Assert.True(tcp.GetProperty("challengeAcks").GetInt64() >= 1, tcp.ToString());
        peer.Send(Host, 42000, hostPort, isn + 5, 0, TcpFlags.Rst);
    }
}
