using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// The SOCKS5 server on the host into the guests' networks (socks.listen, --socks), against real
/// clients (curl, ssh over OpenBSD nc -X 5, git, a raw socket for the refusals) and real servers
/// in the guest (nginx, sshd, git daemon) on the guest's own address, with no port published.
/// </summary>
public sealed class SocksTests : IDisposable
{
    private readonly string _web = Directory.CreateTempSubdirectory("usernet-socks-web-").FullName;

    public SocksTests()
    {
        File.WriteAllText(Path.Combine(_web, "index.html"), "served from the guest\n");
        File.SetUnixFileMode(_web, (UnixFileMode)0x1ED);
    }

    public void Dispose() => Directory.Delete(_web, recursive: true);

    /// <summary>
    /// usernet run with the SOCKS server on <paramref name="port"/> and nginx in the guest on
    /// port 80 of every address, after <paramref name="setup"/> (a shell command) in the guest.
    /// </summary>
    private GuestSession StartWithNginx(int port, string[] options, string setup = "true")
    {
        string config = Nginx.WriteConfig(_web, _web, "0.0.0.0:80");
        File.WriteAllText(config, File.ReadAllText(config).Replace("listen 0.0.0.0:80 backlog=4096;", "listen 0.0.0.0:80; listen [::]:80 ipv6only=on;"));
        var session = GuestSession.StartRunning(["--socks", $"127.0.0.1:{port}", .. options], "sh", "-c", $"{setup} && exec nginx -c {config} -p {_web}");
        try
        {
            Assert.Contains($"SOCKS5 on 127.0.0.1:{port}", session.Stderr);
            Assert.True(Wait.Until(() => session.Exec(["ss", "-Hltn"]).Stdout.Contains("[::]:80"), 10), session.Stderr);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static ProcessResult Curl(int port, string url, string extra = "") =>
        ProcessRunner.Shell($"curl -sS -m 30 --proxy socks5h://127.0.0.1:{port} {extra} '{url}'", TimeSpan.FromSeconds(60));

    [RootFact]
    public void CurlFetches64MiBIntactFromTheGuestsOwnAddressesAndNamesThroughSocks5h()
    {
        int port = Ports.Free();
        using var blob = new Blob(64L << 20);
        File.CreateSymbolicLink(Path.Combine(_web, "blob"), blob.Path);
        using var session = StartWithNginx(port, []);

        Assert.Equal("served from the guest\n", Curl(port, "http://192.168.65.3/").Stdout);
        ProcessRunner.Check(Curl(port, "http://192.168.65.3/blob", $"-o {blob.ReceivedPath}"));
        Assert.Equal(blob.Sha256, Blob.Sha256Of(blob.ReceivedPath));

        File.Delete(blob.ReceivedPath);
        Assert.True(Wait.Until(() => Curl(port, "http://[fdc4:f303:9324::3]/").Stdout == "served from the guest\n", 10));
        ProcessRunner.Check(Curl(port, "http://[fdc4:f303:9324::3]/blob", $"-o {blob.ReceivedPath}"));
        Assert.Equal(blob.Sha256, Blob.Sha256Of(blob.ReceivedPath));

        // A name the instance's DNS has (usernet dns add), resolved by Usernet, not by the host.
        var added = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["dns", "add", "web.socks.test", "192.168.65.3", "--instance", session.Instance], TimeSpan.FromSeconds(10));
        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Equal("served from the guest\n", Curl(port, "http://web.socks.test/").Stdout);

        var socks = session.Stats().GetProperty("socks");
        Assert.Equal($"127.0.0.1:{port}", socks.GetProperty("listen").GetString());
        Assert.True(socks.GetProperty("connected").GetInt64() >= 5, socks.ToString());
        Assert.True(socks.GetProperty("bytesToGuest").GetInt64() > 0, socks.ToString());
        Assert.True(socks.GetProperty("bytesFromGuest").GetInt64() >= 2 * (64L << 20), socks.ToString());
    }

    [RootFact]
    public void SubnetsRoutedIntoTheGuestAreReachedThroughIt()
    {
        int port = Ports.Free();
        // The guest holds addresses of two subnets of its own, as Docker's bridges hold theirs.
        using var session = StartWithNginx(port,
            ["--set", "network.guestRoutes=172.30.0.0/24=192.168.65.3;fd00:30::/64=fdc4:f303:9324::3"],
            "ip addr add 172.30.0.1/32 dev lo && ip addr add fd00:30::1/128 dev lo");
        Assert.Equal("served from the guest\n", Curl(port, "http://172.30.0.1/").Stdout);
        Assert.Equal("served from the guest\n", Curl(port, "http://[fd00:30::1]/").Stdout);
        // A subnet no route names stays outside.
        Assert.Contains("(2)", Curl(port, "http://172.31.0.1/").Stderr);
        // usernet ping: the guest, an address behind it, a name; and what is outside is refused.
        foreach (string target in new[] { "192.168.65.3", "fdc4:f303:9324::3", "172.30.0.1", "fd00:30::1" })
        {
            var ping = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["ping", "-c", "2", target, "--instance", session.Instance], TimeSpan.FromSeconds(30));
            Assert.True(ping.ExitCode == 0, ping.ToString());
            Assert.Contains("2 packets transmitted, 2 received, 0% packet loss", ping.Stdout);
        }
        var silent = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["ping", "-c", "1", "192.168.65.99", "--instance", session.Instance], TimeSpan.FromSeconds(30));
        Assert.Equal(1, silent.ExitCode);
        Assert.Contains("1 packets transmitted, 0 received, 100% packet loss", silent.Stdout);
        var outside = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["ping", "198.18.0.2", "--instance", session.Instance], TimeSpan.FromSeconds(30));
        Assert.Equal(1, outside.ExitCode);
        Assert.Contains("not in the guests' networks", outside.Stderr);

        var drops = session.Stats().GetProperty("stack").GetProperty("drops");
        Assert.False(drops.TryGetProperty("ipv4BadSource", out _), drops.ToString());
        Assert.False(drops.TryGetProperty("ipv6BadSource", out _), drops.ToString());
    }

    [RootFact]
    public void RefusalsGetTheirReplyCodesAndTheServerGoesOnServing()
    {
        int port = Ports.Free();
        using var session = StartWithNginx(port, ["--set", "socks.handshakeTimeoutSeconds=1"]);
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);

        // Outside Usernet's networks: a test host's address, the host's loopback, Usernet's own host address.
        Assert.Equal(2, Connect(endpoint, [5, 1, 0, 1, 198, 18, 0, 2, 0, 80]));
        Assert.Equal(2, Connect(endpoint, [5, 1, 0, 1, 127, 0, 0, 1, 0, 80]));
        Assert.Equal(2, Connect(endpoint, [5, 1, 0, 3, 20, .. "host.docker.internal"u8, 0, 80]));
        Assert.Contains("connection to 198.18.0.2. (2)", Curl(port, "http://198.18.0.2/").Stderr);
        // A name no source of Usernet's knows, which the host may well resolve.
        Assert.Equal(4, Connect(endpoint, [5, 1, 0, 3, 9, .. "localhost"u8, 0, 80]));
        Assert.Equal(4, Connect(endpoint, [5, 1, 0, 3, 12, .. "nowhere.test"u8, 0, 80]));
        // A guest address where nothing listens: the guest's RST.
        Assert.Equal(5, Connect(endpoint, [5, 1, 0, 1, 192, 168, 65, 3, 0, 81]));
        // UDP ASSOCIATE and BIND are not carried.
        Assert.Equal(7, Connect(endpoint, [5, 3, 0, 1, 0, 0, 0, 0, 0, 0]));
        Assert.Equal(7, Connect(endpoint, [5, 2, 0, 1, 192, 168, 65, 3, 0, 80]));
        Assert.Equal(8, Connect(endpoint, [5, 1, 0, 9, 192, 168, 65, 3, 0, 80]));
        Assert.Equal("served from the guest\n", Curl(port, "http://192.168.65.3/").Stdout);

        // A malformed greeting: no acceptable method, and closed.
        using (var http = Open(endpoint))
        {
            http.Send("GET / HTTP/1.1\r\n\r\n"u8);
            Assert.Equal(new byte[] { 5, 0xFF }, ReadToEnd(http));
        }
        // Half a greeting, and a slowloris that sends a byte every 300 ms: both closed at the deadline.
        using (var half = Open(endpoint))
        {
            half.Send([5, 2, 0]);
            var started = DateTime.UtcNow;
            Assert.Empty(ReadToEnd(half));
            Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 0.5, 5);
        }
        using (var slow = Open(endpoint))
        {
            var started = DateTime.UtcNow;
            byte[] greeting = [5, 255, .. Enumerable.Repeat((byte)0x80, 255)];
            int sent = 0;
            try
            {
                while (sent < greeting.Length && (DateTime.UtcNow - started).TotalSeconds < 10)
                {
                    slow.Send(greeting.AsSpan(sent++, 1));
                    Thread.Sleep(300);
                }
            }
            catch (SocketException)
            {
                // Reset once the server closed it.
            }
            Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 0.5, 5);
            Assert.True(sent < 20, $"{sent} bytes sent before the server closed the connection");
        }
        Assert.Equal("served from the guest\n", Curl(port, "http://192.168.65.3/").Stdout);

        var refused = session.Stats().GetProperty("socks").GetProperty("refused");
        Assert.Equal(3 + 1, refused.GetProperty("notAllowed").GetInt64());
        Assert.Equal(2, refused.GetProperty("unknownName").GetInt64());
        Assert.Equal(1, refused.GetProperty("guestRefused").GetInt64());
        Assert.Equal(2, refused.GetProperty("unsupportedCommand").GetInt64());
        Assert.Equal(1, refused.GetProperty("unsupportedAddressType").GetInt64());
        Assert.Equal(1, refused.GetProperty("malformed").GetInt64());
        Assert.Equal(2, refused.GetProperty("timedOut").GetInt64());
    }

    [RootFact]
    public void CredentialsAreRequiredWhenSetAndNeverShown()
    {
        int port = Ports.Free();
        using var session = StartWithNginx(port, ["--set", "socks.user=alice", "--set", "socks.password=s3cret-pw"]);
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);

        Assert.Contains("curl: (97)", Curl(port, "http://192.168.65.3/").Stderr);
        using (var wrong = Open(endpoint))
        {
            wrong.Send([5, 1, 2, 1, 5, .. "alice"u8, 5, .. "guess"u8]);
            Assert.Equal(new byte[] { 5, 2, 1, 1 }, ReadToEnd(wrong));
        }
        Assert.Equal("served from the guest\n", ProcessRunner.Shell(
            $"curl -sS -m 10 --proxy socks5h://alice:s3cret-pw@127.0.0.1:{port} http://192.168.65.3/", TimeSpan.FromSeconds(30)).Stdout);

        var refused = session.Stats().GetProperty("socks").GetProperty("refused");
        Assert.Equal(1, refused.GetProperty("badCredentials").GetInt64());
        Assert.Equal(1, refused.GetProperty("noAcceptableMethod").GetInt64());
        var config = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["config", "--set", "socks.user=alice", "--set", "socks.password=s3cret-pw"], TimeSpan.FromSeconds(10));
        Assert.Contains("socks.password", config.Stdout);
        Assert.DoesNotContain("s3cret-pw", config.Stdout + config.Stderr + session.Stderr);
    }

    [RootFact]
    public void ListeningBeyondLoopbackNeedsTheExplicitSettingAndTheAdminCanLockItOff()
    {
        var refused = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", "--socks", $"0.0.0.0:{Ports.Free()}", "--", "true"], TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("socks.allowNonLoopback", refused.Stderr);

        string admin = Path.Combine(_web, "admin-settings.json");
        File.WriteAllText(admin, """{"socks": {"allowNonLoopback": {"locked": true, "value": false}}}""");
        var locked = ProcessRunner.Run("env", [$"USERNET_ADMIN_SETTINGS={admin}", TestEnvironment.UsernetBinary, "run", "--socks", $"0.0.0.0:{Ports.Free()}",
            "--set", "socks.allowNonLoopback=true", "--", "true"], TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, locked.ExitCode);
        Assert.Contains("locked", locked.Stderr);

        int port = Ports.Free();
        var allowed = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["run", "--socks", $"0.0.0.0:{port}", "--set", "socks.allowNonLoopback=true", "--", "true"], TimeSpan.FromSeconds(30));
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.Contains($"SOCKS5 on 0.0.0.0:{port}", allowed.Stderr);
    }

    [RootFact]
    public void SshReachesAnSshdInTheGuestThroughNcX5()
    {
        string keys = Path.Combine(_web, "keys");
        Directory.CreateDirectory(keys);
        ProcessRunner.Check(ProcessRunner.Run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", $"{keys}/host"], TimeSpan.FromSeconds(30)));
        ProcessRunner.Check(ProcessRunner.Run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", $"{keys}/client"], TimeSpan.FromSeconds(30)));
        File.Copy($"{keys}/client.pub", $"{keys}/authorized_keys");
        File.WriteAllText($"{keys}/sshd_config", $"""
            Port 22
            HostKey {keys}/host
            AuthorizedKeysFile {keys}/authorized_keys
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            PidFile none
            """);
        int port = Ports.Free();
        // sshd wants its privilege separation directory; the guest's mount namespace is its own.
        using var session = GuestSession.StartRunning(["--socks", $"127.0.0.1:{port}"],
            "sh", "-c", $"mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -f {keys}/sshd_config");
        Assert.True(Wait.Until(() => session.Exec(["ss", "-Hltn"]).Stdout.Contains(":22 "), 10), session.Stderr);

        var ssh = ProcessRunner.Run("ssh", [
            "-i", $"{keys}/client", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", $"ProxyCommand=nc -X 5 -x 127.0.0.1:{port} %h %p", "root@192.168.65.3", "echo", "hello from sshd in the guest",
        ], TimeSpan.FromSeconds(60));
        Assert.True(ssh.ExitCode == 0, ssh.ToString());
        Assert.Equal("hello from sshd in the guest\n", ssh.Stdout);
    }

    [RootFact]
    public void GitClonesThroughSocksFromAGitDaemonAndAnHttpServerInTheGuest()
    {
        // A repository with one commit, bare in the web root: nginx serves it over git's dumb
        // HTTP (after update-server-info), git daemon over git://.
        string work = Path.Combine(_web, "work");
        string origin = Path.Combine(_web, "repo.git");
        string git = "git -c user.name=usernet -c user.email=usernet@test.invalid -c init.defaultBranch=main";
        ProcessRunner.Check(ProcessRunner.Shell(
            $"{git} init -q {work} && echo 'cloned through socks' > {work}/file && {git} -C {work} add file && {git} -C {work} commit -qm one " +
            $"&& {git} clone -q --bare {work} {origin} && {git} -C {origin} update-server-info", TimeSpan.FromSeconds(60)));
        string head = ProcessRunner.Check(ProcessRunner.Run("git", ["-C", origin, "rev-parse", "HEAD"], TimeSpan.FromSeconds(10))).Trim();
        int port = Ports.Free();
        using var session = StartWithNginx(port, [],
            $"git daemon --detach --reuseaddr --export-all --listen=0.0.0.0 --base-path={_web} --pid-file={_web}/git-daemon.pid {_web}");
        Assert.True(Wait.Until(() => session.Exec(["ss", "-Hltn"]).Stdout.Contains(":9418 "), 10), session.Stderr);

        // git:// through core.gitProxy, a command git runs with the host and port (OpenBSD nc -X 5).
        string proxy = Path.Combine(_web, "git-proxy");
        File.WriteAllText(proxy, $"#!/bin/sh\nexec nc -X 5 -x 127.0.0.1:{port} \"$1\" \"$2\"\n");
        File.SetUnixFileMode(proxy, (UnixFileMode)0x1ED);
        foreach (var (url, option) in new[] { ("git://192.168.65.3/repo.git", $"core.gitProxy={proxy}"), ("http://192.168.65.3/repo.git", $"http.proxy=socks5h://127.0.0.1:{port}") })
        {
            string clone = Path.Combine(_web, $"clone-{url[..url.IndexOf(':')]}");
            var result = ProcessRunner.Run("git", ["-c", option, "clone", "-q", url, clone], TimeSpan.FromSeconds(60));
            Assert.True(result.ExitCode == 0, $"{url}: {result}");
            Assert.Equal("cloned through socks\n", File.ReadAllText(Path.Combine(clone, "file")));
            Assert.Equal(head, ProcessRunner.Check(ProcessRunner.Run("git", ["-C", clone, "rev-parse", "HEAD"], TimeSpan.FromSeconds(10))).Trim());
        }
    }

    /// <summary>A whole handshake without authentication and <paramref name="request"/>; returns the reply code.</summary>
    private static int Connect(IPEndPoint endpoint, byte[] request)
    {
        using var socket = Open(endpoint);
        socket.Send([5, 1, 0]);
        byte[] method = new byte[2];
        ReadExactly(socket, method);
        Assert.Equal(new byte[] { 5, 0 }, method);
        socket.Send(request);
        byte[] reply = ReadToEnd(socket);
        Assert.True(reply.Length >= 10, $"reply of {reply.Length} bytes");
        Assert.Equal(5, reply[0]);
        return reply[1];
    }

    private static Socket Open(IPEndPoint endpoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        socket.Connect(endpoint);
        return socket;
    }

    private static void ReadExactly(Socket socket, Span<byte> buffer)
    {
        for (int read = 0; read < buffer.Length;)
        {
            int n = socket.Receive(buffer[read..]);
            Assert.True(n > 0, "closed early");
            read += n;
        }
    }

    /// <summary>What the server sends until it closes (a refusal closes).</summary>
    private static byte[] ReadToEnd(Socket socket)
    {
        var all = new List<byte>();
        byte[] buffer = new byte[512];
        try
        {
            int n;
            while ((n = socket.Receive(buffer)) > 0)
            {
                all.AddRange(buffer[..n]);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
        return all.ToArray();
    }
}
