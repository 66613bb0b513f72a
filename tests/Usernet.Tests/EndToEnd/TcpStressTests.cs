using System.Net.Sockets;
using System.Security.Cryptography;
using Usernet.Platform;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>Integrity, concurrency, flow control and resource return of guest TCP.</summary>
public sealed class TcpStressTests
{
    [RootFact]
    public void OneGibibyteEachWayArrivesIntact()
    {
        using var blob = new Blob(1L << 30);
        using var session = GuestSession.Start();

        // Guest to host. Hashing happens after the transfer, not in its path, so that it does
        // not compete for the two cores while the data moves.
        string received = blob.ReceivedPath;
        int up = Ports.Free();
        using var receiver = ManagedProcess.Start("socat", ["-u", $"TCP-LISTEN:{up},bind=127.0.0.1,reuseaddr", $"CREATE:{received}"]);
        WaitForListener(up);
        ProcessRunner.Check(session.Shell($"socat -u FILE:{blob.Path} TCP:192.168.65.254:{up}", TimeSpan.FromMinutes(3)));
        Assert.True(receiver.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Equal(blob.Sha256, Blob.Sha256Of(received));
        File.Delete(received);

        // Host to guest.
        int down = Ports.Free();
        using var sender = ManagedProcess.Start("socat", ["-u", $"FILE:{blob.Path}", $"TCP-LISTEN:{down},bind=127.0.0.1,reuseaddr"]);
        WaitForListener(down);
        ProcessRunner.Check(session.Shell($"socat -u TCP:192.168.65.254:{down} CREATE:{received}", TimeSpan.FromMinutes(3)));
        Assert.True(sender.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(blob.Sha256, Blob.Sha256Of(received));
    }

    [RootFact]
    public async Task DataSentJustBeforeTheCommandExitsStillArrives()
    {
        using var blob = new Blob(64L << 20);
        using var listener = new LoopbackListener();
        int port = listener.Port;
        // A reader slower than the guest's sender: when the command exits, Usernet still holds
        // data the guest saw acknowledged, and must deliver it before it stops.
        var reader = listener.ServeOne(async client =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var stream = client.GetStream();
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                await Task.Delay(1, TestContext.Current.CancellationToken);
            }
            return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
        });
        var run = ProcessRunner.Run(TestEnvironment.UsernetBinary,
            ["run", "--", "socat", "-u", $"FILE:{blob.Path}", $"TCP:192.168.65.254:{port}"], TimeSpan.FromMinutes(2));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(blob.Sha256, await reader.WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken));
    }

    [RootFact]
    public void ThirtyTwoParallelStreamsArriveIntact()
    {
        using var blob = new Blob(32L << 20);
        using var session = GuestSession.Start();
        string results = Directory.CreateTempSubdirectory("usernet-streams-").FullName;
        File.SetUnixFileMode(results, (UnixFileMode)0x1FF);
        try
        {
            int port = Ports.Free();
            // One hashing child per connection, each writing its own file.
            using var server = ManagedProcess.Start("socat",
                [$"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,backlog=64", $"SYSTEM:cat > {results}/$$$$"]);
            WaitForListener(port);
            string clients = string.Join(" & ", Enumerable.Range(0, 32).Select(_ => $"socat -u FILE:{blob.Path} TCP:192.168.65.254:{port}"));
            ProcessRunner.Check(session.Shell($"{clients} & wait", TimeSpan.FromMinutes(3)));
            Assert.True(Wait.Until(() => Directory.GetFiles(results).Count(f => new FileInfo(f).Length == 32L << 20) == 32, 30));
            var hashes = Directory.GetFiles(results).Select(Blob.Sha256Of).ToList();
            Assert.Equal(32, hashes.Count);
            Assert.All(hashes, hash => Assert.Equal(blob.Sha256, hash));
        }
        finally
        {
            Directory.Delete(results, recursive: true);
        }
    }

    [RootFact]
    public async Task ASlowHostReaderThrottlesTheGuestWithoutGrowingMemory()
    {
        using var session = GuestSession.Start();
        using var listener = new LoopbackListener();
        int port = listener.Port;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        long read = 0;
        var slowReader = listener.ServeOne(async client =>
        {
            client.ReceiveBufferSize = 4096;
            var stream = client.GetStream();
            byte[] buffer = new byte[1024];
            while (!stop.IsCancellationRequested)
            {
                int n = await stream.ReadAsync(buffer, stop.Token);
                if (n == 0)
                {
                    return;
                }
                Interlocked.Add(ref read, n);
                await Task.Delay(1000, stop.Token);
            }
        });
        long rssBefore = RssKiB(session.UsernetPid);
        using var sender = ManagedProcess.Start("nsenter",
            [$"--net=/proc/{session.InitPid}/ns/net", "--", "sh", "-c", $"head -c 1000000000 /dev/zero | socat -u - TCP:192.168.65.254:{port}"]);
        await Task.Delay(5000, TestContext.Current.CancellationToken);
        var tcp = session.Stats().GetProperty("tcp");
        long fromGuest = tcp.GetProperty("bytesFromGuest").GetInt64();
        long rssAfter = RssKiB(session.UsernetPid);
        bool senderWasRunning = !sender.HasExited;
        sender.Kill();
        await stop.CancelAsync();
        // The connection carried data and the sender was still held back, not finished or failed.
        Assert.True(senderWasRunning, "the guest's sender had ended");
        Assert.True(Interlocked.Read(ref read) > 0, "the slow reader got nothing");
        Assert.True(fromGuest >= 64 * 1024, $"only {fromGuest} bytes came from the guest");
        // The guest could send no more than the host socket buffers hold, and Usernet kept none of it.
        Assert.True(fromGuest < 32L << 20, $"{fromGuest} bytes passed a reader that took {Interlocked.Read(ref read)}");
        Assert.True(rssAfter - rssBefore < 16 * 1024, $"RSS grew from {rssBefore} KiB to {rssAfter} KiB");
    }

    [RootFact]
    public void TwoThousandConcurrentConnectionsOpenExchangeAndClose()
    {
        using var nginx = Nginx.Start(workerConnections: 4096);
        using var session = GuestSession.Start();
        int socketsBefore = TcpSocketCount(session.UsernetPid);
        var ab = session.Shell($"ulimit -n 8192; ab -q -n 4000 -c 2000 -s 30 http://192.168.65.254:{nginx.Port}/ 2>&1", TimeSpan.FromMinutes(2));
        Assert.True(ab.ExitCode == 0, ab.ToString());
        Assert.Contains("Complete requests:      4000", ab.Stdout);
        Assert.Contains("Failed requests:        0", ab.Stdout);
        // Closed connections give back their sockets (TIME-WAIT is short).
        Assert.True(Wait.Until(() => session.Stats().GetProperty("tcp").GetProperty("connections").GetInt32() == 0, 15),
            session.Stats().GetProperty("tcp").ToString());
        Assert.Equal(socketsBefore, TcpSocketCount(session.UsernetPid));
    }

    [RootFact]
    public async Task AnIdleConnectionOutlivesEveryTimer()
    {
        // Every timer short: keepalive after 1 s, probes each second.
        using var session = GuestSession.Start(
            "--set", "tcp.keepaliveIdleSeconds=1", "--set", "tcp.keepaliveIntervalSeconds=1", "--set", "tcp.keepaliveCount=2",
            "--set", "tcp.connectTimeoutSeconds=1");
        using var listener = new LoopbackListener();
        int port = listener.Port;
        var server = listener.ServeOne(async client =>
        {
            var stream = client.GetStream();
            await Task.Delay(6000, TestContext.Current.CancellationToken);
            await stream.WriteAsync("ping\n"u8.ToArray(), TestContext.Current.CancellationToken);
            byte[] buffer = new byte[5];
            await stream.ReadExactlyAsync(buffer, TestContext.Current.CancellationToken);
            return System.Text.Encoding.ASCII.GetString(buffer);
        });
        // The guest says nothing for 6 s, then answers the host's ping.
        var guest = session.Shell($"(sleep 6.5; echo pong) | socat -t 5 - TCP:192.168.65.254:{port}", TimeSpan.FromSeconds(30));
        Assert.True(guest.ExitCode == 0, guest.ToString());
        Assert.Contains("ping", guest.Stdout);
        Assert.Equal("pong\n", await server.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        var tcp = session.Stats().GetProperty("tcp");
        Assert.True(tcp.GetProperty("keepaliveProbes").GetInt64() > 0, tcp.ToString());
        Assert.Equal(0, tcp.GetProperty("keepaliveTimeouts").GetInt64());
    }

    /// <summary>Waits for a listener without connecting to it (a probe would use up a one-shot server).</summary>
    private static void WaitForListener(int port) =>
        Assert.True(Wait.Until(() => ProcessRunner.Run("ss", "-Hltn", $"sport = :{port}").Stdout.Contains($":{port}"), 5),
            $"nothing listens on {port}");

    private static long RssKiB(int pid) =>
        long.Parse(File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);

    /// <summary>
    /// The TCP sockets <paramref name="pid"/> holds: its descriptors whose socket is in its
    /// network namespace's TCP tables. Not all its descriptors: the control connection of a
    /// <c>usernet stats</c> that has just returned may still be closing on Usernet's side (a
    /// loaded run counted 19 before and 18 after).
    /// </summary>
    private static int TcpSocketCount(int pid)
    {
        var tcpInodes = ProcNetTable.Read($"/proc/{pid}/net", ProtocolType.Tcp).Select(socket => socket.Inode).ToHashSet();
        return ProcFs.SocketInodes($"/proc/{pid}").Count(tcpInodes.Contains);
    }
}
