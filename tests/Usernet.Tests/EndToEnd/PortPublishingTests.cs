using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>Ports published from the host into the guest, against real servers in the guest.</summary>
public sealed class PortPublishingTests : IDisposable
{
    private readonly string _web = Directory.CreateTempSubdirectory("usernet-web-").FullName;

    public PortPublishingTests()
    {
        File.WriteAllText(Path.Combine(_web, "index.html"), "served from the guest\n");
        File.SetUnixFileMode(_web, (UnixFileMode)0x1ED);
    }

    public void Dispose() => Directory.Delete(_web, recursive: true);

    private static string Curl(string url, string extra = "") =>
        ProcessRunner.Shell($"curl -sS -m 5 {extra} '{url}'").Output;

    private static ProcessResult Port(GuestSession session, params string[] arguments) =>
        ProcessRunner.Run(TestEnvironment.UsernetBinary, ["port", .. arguments, "--instance", session.Instance], TimeSpan.FromSeconds(10));

    private static bool Answers(string url, string expected) =>
        Wait.Until(() => Curl(url).Contains(expected), 5);

    [RootFact]
    public void PublishedPortsAnswerOnTheAddressesTheyWereBoundTo()
    {
        int any = Ports.Free(), local = Ports.Free(), v6 = Ports.Free();
        using var host = TestHost.Create();
        using var session = GuestSession.StartRunning(
            ["-p", $"{any}:80", "-p", $"127.0.0.1:{local}:80", "-p", $"[::1]:{v6}:80"],
            "busybox", "httpd", "-f", "-p", "80", "-h", _web);
        Assert.True(Answers($"http://127.0.0.1:{any}/", "served from the guest"), session.Stderr);
        Assert.Contains("served from the guest", Curl($"http://127.0.0.1:{local}/"));
        Assert.Contains("served from the guest", Curl($"http://[::1]:{v6}/"));
        // Bound to loopback only: the host's other addresses do not answer.
        Assert.Contains("Couldn't connect", Curl($"http://{host.HostSideAddress}:{local}/"));
        Assert.Contains("served from the guest", Curl($"http://{host.HostSideAddress}:{any}/"));
        Assert.Contains($"published 127.0.0.1:{local} -> 192.168.65.3:80", session.Stderr);
    }

    [RootFact]
    public void ARandomHostPortIsChosenAndPrinted()
    {
        using var session = GuestSession.StartRunning(["-p", "127.0.0.1::80"], "busybox", "httpd", "-f", "-p", "80", "-h", _web);
        var match = System.Text.RegularExpressions.Regex.Match(session.Stderr, @"published 127\.0\.0\.1:(\d+) -> 192\.168\.65\.3:80");
        Assert.True(match.Success, session.Stderr);
        Assert.True(Answers($"http://127.0.0.1:{match.Groups[1].Value}/", "served from the guest"));
    }

    [RootFact]
    public async Task PortsComeAndGoWhileRunningAndEstablishedConnectionsStay()
    {
        int port = Ports.Free();
        using var session = GuestSession.StartRunning([], "socat", "TCP-LISTEN:9000,fork,reuseaddr", "EXEC:cat");
        var added = Port(session, "add", $"{port}:9000");
        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Contains($"published 0.0.0.0:{port}", added.Stdout);
        using var client = new TcpClient();
        Assert.True(Wait.Until(() => TryConnect(client, port), 5));
        var stream = client.GetStream();
        await Echo(stream, "before\n");

        var removed = Port(session, "rm", $"{port}:9000");
        Assert.True(removed.ExitCode == 0, removed.ToString());
        using var refused = new TcpClient();
        Assert.Throws<SocketException>(() => refused.Connect(IPAddress.Loopback, port));
        // An established connection is kept after its port is unpublished.
        await Echo(stream, "after\n");
        Assert.Contains("nothing is published", Port(session, "rm", $"{port}:9000").Stderr);
    }

    private static bool TryConnect(TcpClient client, int port)
    {
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task Echo(NetworkStream stream, string line)
    {
        byte[] data = Encoding.ASCII.GetBytes(line);
        await stream.WriteAsync(data, TestContext.Current.CancellationToken);
        byte[] back = new byte[data.Length];
        await stream.ReadExactlyAsync(back, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(line, Encoding.ASCII.GetString(back));
    }

    [RootFact]
    public void APortHeldByAnotherProcessIsReportedWithItsHolder()
    {
        using var nginx = Nginx.Start("0.0.0.0");
        int other = Ports.Free();
        using var session = GuestSession.StartRunning(["-p", $"{other}:80"], "busybox", "httpd", "-f", "-p", "80", "-h", _web);
        var conflict = Port(session, "add", $"{nginx.Port}:80");
        Assert.NotEqual(0, conflict.ExitCode);
        // At run time Usernet has given up the privileges to look into nginx (root, with every
        // capability): it says so rather than naming it. At start, below, it still names it.
        Assert.Contains($"port {nginx.Port} is already in use by a process Usernet may not look into", conflict.Stderr);
        Assert.Contains($"port {other}/tcp is already published by this instance", Port(session, "add", $"{other}:81").Stderr);
        // The others are untouched.
        Assert.True(Answers($"http://127.0.0.1:{other}/", "served from the guest"));
        Assert.Contains("hello from nginx", Curl($"http://127.0.0.1:{nginx.Port}/"));
        // At start, the same refusal ends the run before the command starts.
        var start = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", "-p", $"{nginx.Port}:80", "--", "touch", "/tmp/should-not-exist"], TimeSpan.FromSeconds(30));
        Assert.Equal(125, start.ExitCode);
        Assert.Contains($"port {nginx.Port} is already in use by nginx", start.Stderr);
    }

    [RootFact]
    public void TheGuestSeesTheRealClientAddress()
    {
        int port = Ports.Free();
        using var host = TestHost.Create();
        using var session = GuestSession.StartRunning(["-p", $"{port}:80"], "socat", "TCP-LISTEN:80,fork,reuseaddr", "SYSTEM:echo $SOCAT_PEERADDR");
        Assert.True(Wait.Until(() => ProcessRunner.Shell($"socat -T 2 - TCP:127.0.0.1:{port} </dev/null").Stdout.Trim() == "192.168.65.254", 5),
            ProcessRunner.Shell($"socat -T 2 - TCP:127.0.0.1:{port} </dev/null").ToString());
        string remote = host.Exec("socat", "-T", "2", "-", $"TCP:{host.HostSideAddress}:{port}").Trim();
        Assert.Equal(host.Address, remote);
    }

    [RootFact]
    public void AClientThatReusesItsPortAtOnceIsNotHeldByTheGuestsTimeWait()
    {
        // busybox httpd closes first, so the guest holds each connection in TIME-WAIT; the
        // client comes back from the same port at once, as clients on loopback do
        // (tcp_tw_reuse), and the guest sees the same endpoints. Our SYN must start above the
        // old connection (RFC 6528), or the guest answers it with the old connection's ACK.
        int port = Ports.Free();
        using var session = GuestSession.StartRunning(["-p", $"127.0.0.1:{port}:80"], "busybox", "httpd", "-f", "-p", "80", "-h", _web);
        Assert.True(Answers($"http://127.0.0.1:{port}/", "served from the guest"), session.Stderr);
        long retransmitsBefore = session.Stats().GetProperty("tcp").GetProperty("retransmits").GetInt64();
        int clientPort = Ports.Free();
        var failures = new List<string>();
        for (int i = 0; i < 40; i++)
        {
            try
            {
                using var client = ConnectFrom(clientPort, port);
                client.Send("GET / HTTP/1.0\r\n\r\n"u8);
                var answer = new MemoryStream();
                var buffer = new byte[4096];
                for (int read; (read = client.Receive(buffer)) > 0;)
                {
                    answer.Write(buffer, 0, read);
                }
                if (!Encoding.ASCII.GetString(answer.ToArray()).Contains("served from the guest"))
                {
                    failures.Add($"{i}: {Encoding.ASCII.GetString(answer.ToArray())}");
                }
            }
            catch (SocketException e)
            {
                failures.Add($"{i}: {e.SocketErrorCode}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("; ", failures));
        // Each SYN was taken at once: a SYN the guest answered with the old connection's ACK
        // would have been sent again after a second.
        long retransmits = session.Stats().GetProperty("tcp").GetProperty("retransmits").GetInt64() - retransmitsBefore;
        Assert.True(retransmits < 5, $"{retransmits} retransmissions");
    }

    /// <summary>
    /// A socket bound to 127.0.0.1:<paramref name="clientPort"/> and connected to
    /// <paramref name="port"/>. The client's previous socket on that port closed last, so it
    /// waits in LAST-ACK until the kernel's own ACK of its FIN comes back over loopback, which a
    /// loaded machine can defer past the next connect. The host kernel then refuses the connect
    /// with EADDRNOTAVAIL before any SYN leaves, so a few tries, 20 ms apart, are the kernel's
    /// business and not Usernet's: what is tested is the SYN that does leave.
    /// </summary>
    private static Socket ConnectFrom(int clientPort, int port)
    {
        for (int attempt = 1; ; attempt++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                client.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                client.ReceiveTimeout = 5000;
                client.SendTimeout = 5000;
                client.Bind(new IPEndPoint(IPAddress.Loopback, clientPort));
                client.Connect(IPAddress.Loopback, port);
                return client;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressNotAvailable && attempt < 50)
            {
                client.Dispose();
                Thread.Sleep(20);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }
    }

    [RootFact]
    public void WithoutPreservationEveryClientIsTheGateway()
    {
        int port = Ports.Free();
        using var host = TestHost.Create();
        using var session = GuestSession.StartRunning(["--set", "ports.preserveClientAddress=false", "-p", $"{port}:80"],
            "socat", "TCP-LISTEN:80,fork,reuseaddr", "SYSTEM:echo $SOCAT_PEERADDR");
        Assert.True(Wait.Until(() => ProcessRunner.Shell($"socat -T 2 - TCP:127.0.0.1:{port} </dev/null").Stdout.Trim() == "192.168.65.1", 5));
        Assert.Equal("192.168.65.1", host.Exec("socat", "-T", "2", "-", $"TCP:{host.HostSideAddress}:{port}").Trim());
    }

    [RootFact]
    public void AUdpServerInTheGuestAnswersThroughAPublishedPort()
    {
        int port = Ports.Free();
        using var session = GuestSession.StartRunning(["-p", $"{port}:53/udp"], "socat", "UDP-RECVFROM:53,fork", "SYSTEM:cat");
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        client.Client.ReceiveTimeout = 1000;
        string? answer = null;
        IPEndPoint? from = null;
        Wait.Until(() =>
        {
            client.Send("ping over udp"u8.ToArray(), new IPEndPoint(IPAddress.Loopback, port));
            try
            {
                var remote = new IPEndPoint(IPAddress.Any, 0);
                answer = Encoding.ASCII.GetString(client.Receive(ref remote));
                from = remote;
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, 5);
        Assert.Equal("ping over udp", answer);
        Assert.Equal(port, from!.Port);
    }

    [RootFact]
    public void OneGibibyteEachWayAndTwoHundredClientsThroughAPublish()
    {
        using var blob = new Blob(1L << 30);
        string received = blob.ReceivedPath;
        int up = Ports.Free(), down = Ports.Free(), web = Ports.Free();
        // nginx in the guest: busybox httpd's listen backlog of 9 cannot take 200 clients at once.
        string config = Nginx.WriteConfig(_web, _web, "0.0.0.0:80", workerConnections: 1024);
        using var session = GuestSession.StartRunning(["-p", $"127.0.0.1:{up}:7001", "-p", $"127.0.0.1:{down}:7002", "-p", $"127.0.0.1:{web}:80"],
            "sh", "-c", $"socat -u TCP-LISTEN:7001 CREATE:{received} & socat -u FILE:{blob.Path} TCP-LISTEN:7002 & nginx -c {config} -p {_web}");
        // Host to guest.
        Assert.True(Wait.Until(() => session.Exec(["ss", "-Hltn"]).Stdout.Contains(":7001"), 5));
        ProcessRunner.Check(ProcessRunner.Run("socat", ["-u", $"FILE:{blob.Path}", $"TCP:127.0.0.1:{up}"], TimeSpan.FromMinutes(2)));
        Assert.True(Wait.Until(() => new FileInfo(received).Length == 1L << 30, 30));
        Assert.Equal(blob.Sha256, Blob.Sha256Of(received));
        File.Delete(received);
        // Guest to host.
        ProcessRunner.Check(ProcessRunner.Run("socat", ["-u", $"TCP:127.0.0.1:{down}", $"CREATE:{received}"], TimeSpan.FromMinutes(2)));
        Assert.Equal(blob.Sha256, Blob.Sha256Of(received));
        // 200 clients at once.
        var ab = ProcessRunner.Run("ab", ["-q", "-n", "2000", "-c", "200", "-s", "30", $"http://127.0.0.1:{web}/"], TimeSpan.FromMinutes(2));
        Assert.Contains("Complete requests:      2000", ab.Stdout);
        Assert.Contains("Failed requests:        0", ab.Stdout);
    }

    [RootFact]
    public void TheApiRefusesMalformedRequestsAndSpeaksGvproxy()
    {
        int port = Ports.Free();
        using var session = GuestSession.StartRunning([], "busybox", "httpd", "-f", "-p", "80", "-h", _web);
        string socket = Path.Combine("/run/usernet", session.Instance + ".sock");
        string Api(string method, string path, string body) =>
            ProcessRunner.Run("curl", ["-s", "-w", "\n%{http_code}", "--unix-socket", socket, "-X", method, .. (body.Length > 0 ? new[] { "-d", body } : []), $"http://usernet{path}"]).Stdout;
        var malformed = Api("POST", "/ports", "{not json");
        Assert.EndsWith("400", malformed.Trim());
        Assert.Contains("malformed JSON", malformed);
        var badSpec = Api("POST", "/ports", """{"spec": "8080:99999"}""");
        Assert.EndsWith("400", badSpec.Trim());
        Assert.Contains("99999", badSpec);

        Assert.EndsWith("200", Api("POST", "/services/forwarder/expose", $$"""{"local": "127.0.0.1:{{port}}", "remote": "192.168.65.3:80", "protocol": "tcp"}""").Trim());
        Assert.True(Answers($"http://127.0.0.1:{port}/", "served from the guest"));
        string all = Api("GET", "/services/forwarder/all", "");
        using (var document = JsonDocument.Parse(all[..all.TrimEnd().LastIndexOf('\n')]))
        {
            var entry = Assert.Single(document.RootElement.EnumerateArray());
            Assert.Equal($"127.0.0.1:{port}", entry.GetProperty("local").GetString());
            Assert.Equal("192.168.65.3:80", entry.GetProperty("remote").GetString());
        }
        Assert.EndsWith("200", Api("POST", "/services/forwarder/unexpose", $$"""{"local": "127.0.0.1:{{port}}", "protocol": "tcp"}""").Trim());
        Assert.Contains("Couldn't connect", Curl($"http://127.0.0.1:{port}/"));
    }

    [RootFact]
    public void PortBindingBehaviorDecidesTheDefaultAndCanForbidAnythingButLoopback()
    {
        int port = Ports.Free();
        using var local = GuestSession.StartRunning(["--set", "portBindingBehavior=default-local-port-binding", "-p", $"{port}:80"],
            "busybox", "httpd", "-f", "-p", "80", "-h", _web);
        Assert.Contains($"published 127.0.0.1:{port}, [::1]:{port}", local.Stderr);

        var refused = ProcessRunner.Run(TestEnvironment.UsernetBinary,
            ["run", "--set", "portBindingBehavior=local-only-port-binding", "-p", $"0.0.0.0:{Ports.Free()}:80", "--", "true"], TimeSpan.FromSeconds(30));
        Assert.Equal(125, refused.ExitCode);
        Assert.Contains("local-only-port-binding", refused.Stderr);

        // An administrator's lock cannot be undone by a flag.
        string admin = Path.GetTempFileName();
        try
        {
            File.WriteAllText(admin, """{ "portBindingBehavior": { "locked": true, "value": "local-only-port-binding" } }""");
            var locked = ProcessRunner.Run(TestEnvironment.UsernetBinary,
                ["run", "--set", "portBindingBehavior=default-port-binding", "--", "true"], TimeSpan.FromSeconds(30),
                environment: new Dictionary<string, string> { ["USERNET_ADMIN_SETTINGS"] = admin });
            Assert.Equal(2, locked.ExitCode);
            Assert.Contains("portBindingBehavior is locked by the administrator", locked.Stderr);
        }
        finally
        {
            File.Delete(admin);
        }
    }

    [RootFact]
    public void ListeningPortsArePublishedAutomatically()
    {
        int port = Ports.Free();
        using var session = GuestSession.StartRunning(["-p", "auto"], "sh", "-c",
            $"sleep 1; busybox httpd -f -p {port} -h {_web} & pid=$!; sleep 4; kill $pid; sleep 600");
        Assert.True(Answers($"http://127.0.0.1:{port}/", "served from the guest"), session.Stderr);
        Assert.True(Wait.Until(() => Curl($"http://127.0.0.1:{port}/").Contains("Couldn't connect"), 10));
    }
}
