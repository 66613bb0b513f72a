using System.Globalization;
using System.Net.Sockets;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// A guest whose SYN advertises an MSS of 1, as iptables' TCPMSS target rewrites it on the
/// way out of the guest's kernel (which itself keeps its ordinary window): without a floor,
/// every byte of a download became a frame and a system call, and one call sent a whole
/// window of them while the loop served nobody else.
/// </summary>
public sealed class TinyMssTests
{
    /// <summary>Round trips of a small exchange the guest makes while the download runs.</summary>
    private const string Pinger = """
        import socket, sys, time
        s = socket.create_connection(("192.168.65.254", int(sys.argv[1])), timeout=60)
        worst = 0.0
        for i in range(int(sys.argv[2])):
            start = time.monotonic()
            s.sendall(b"ping %d\n" % i)
            got = b""
            while not got.endswith(b"\n"):
                more = s.recv(100)
                if not more:
                    sys.exit("the echo server closed")
                got += more
            worst = max(worst, time.monotonic() - start)
            time.sleep(0.05)
        print("%.3f" % worst)
        """;

    [RootFact]
    public void ADownloadAtATinyMssDoesNotStopAnotherConnection()
    {
        using var bulk = new LoopbackListener();
        bulk.ServeEach(SendForever);
        using var echo = new LoopbackListener();
        echo.EchoEach();
        using var session = GuestSession.Start();
        ProcessRunner.Check(session.Shell(
            $"iptables -t mangle -A POSTROUTING -p tcp --dport {bulk.Port} --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1"));
        // The download runs in the guest until it is killed with the session.
        ProcessRunner.Check(session.Shell($"(socat -u TCP:192.168.65.254:{bulk.Port} /dev/null >/dev/null 2>&1 &)"));
        Assert.True(Wait.Until(() => BytesToGuest(session) > 1_000_000, 20), "the download does not run");

        long before = BytesToGuest(session);
        var pings = session.Exec(["python3", "-c", Pinger, echo.Port.ToString(CultureInfo.InvariantCulture), "40"], TimeSpan.FromSeconds(90));

        Assert.True(pings.ExitCode == 0, pings.ToString());
        double worst = double.Parse(pings.Stdout.Trim(), CultureInfo.InvariantCulture);
        // Without the floor and the bound on segments per call, the worst took 1.7 s here.
        Assert.True(worst < 1.0, $"the worst round trip took {worst} s");
        var tcp = session.Stats().GetProperty("tcp");
        Assert.Equal(1, tcp.GetProperty("mssRaised").GetInt64());
        // And the download went on meanwhile.
        Assert.True(BytesToGuest(session) > before + 1_000_000, tcp.ToString());
    }

    private static long BytesToGuest(GuestSession session) => session.Stats().GetProperty("tcp").GetProperty("bytesToGuest").GetInt64();

    private static async Task SendForever(TcpClient client)
    {
        var stream = client.GetStream();
        byte[] chunk = new byte[64 * 1024];
        while (true)
        {
            await stream.WriteAsync(chunk);
        }
    }
}
