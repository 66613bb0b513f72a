using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// The proxy end to end: guests' curl through http.docker.internal:3128 and transparent ports,
/// to nginx on a test host, directly and through a real squid (basic authentication) and a real
/// dante (SOCKS5 with a user and password), with PAC, reloads, failures and hostile requests.
/// </summary>
public sealed partial class ProxyTests(ProxyWorld world) : IClassFixture<ProxyWorld>, IDisposable
{
    private const string Password = "s3cret-pw";
    private const string Hello = "hello from the test host\n";
    private readonly List<IDisposable> _owned = new();
    private readonly string _settingsDirectory = Directory.CreateTempSubdirectory("usernet-proxy-settings-").FullName;

    private string SettingsPath => Path.Combine(_settingsDirectory, "settings.json");

    public void Dispose()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }
        Directory.Delete(_settingsDirectory, recursive: true);
    }

    private T Own<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    /// <summary>
    /// settings.json (or <paramref name="path"/>) with the test nameserver and
    /// <paramref name="proxy"/> (JSON members of the top-level object).
    /// </summary>
    private void WriteSettings(string proxy, string? path = null)
    {
        path ??= SettingsPath;
        string text = $$"""{ "dns": { "hostResolver": false, "servers": ["{{world.Nameserver}}"] }{{(proxy.Length > 0 ? ", " + proxy : "")}} }""";
        // Written beside and renamed, so that the watcher never reads half a file.
        File.WriteAllText(path + ".new", text);
        File.Move(path + ".new", path, overwrite: true);
    }

    private GuestSession StartGuest(string proxy)
    {
        WriteSettings(proxy);
        return Own(GuestSession.Start("--settings", SettingsPath, "--log-level", "info"));
    }

    private static string Manual(string http, string https, string extra = "") =>
        $$"""
        "proxy": { "mode": "manual", "http": "{{http}}", "https": "{{https}}"{{extra}} }
        """;

    private Squid StartSquid() => Own(Squid.Start(world.Nameserver, "alice", Password));

    private string Curl(GuestSession guest, string arguments, int seconds = 30) =>
        guest.Shell($"curl -sS --max-time {seconds} --cacert {world.CaPath} {arguments} 2>&1", TimeSpan.FromSeconds(seconds + 15)).Stdout;

    private const string ViaProxy = "-x http://http.docker.internal:3128";

    /// <summary>Runs a Python <paramref name="script"/> in the guest with <paramref name="arguments"/>; its output, stderr included.</summary>
    private string RunPython(GuestSession guest, string script, string arguments = "")
    {
        string path = Path.Combine(_settingsDirectory, $"{TestEnvironment.UniqueName("client")}.py");
        File.WriteAllText(path, script);
        return guest.Shell($"python3 {path} {arguments} 2>&1", TimeSpan.FromSeconds(40)).Stdout;
    }

    [RootFact]
    public void DirectThenThroughSquidWithBasicAuthentication()
    {
        var direct = StartGuest("");
        Assert.Equal("hello from the test host\n", Curl(direct, $"{ViaProxy} http://web.test/"));
        Assert.Equal("hello from the test host\n", Curl(direct, $"{ViaProxy} https://web.test/"));

        var squid = StartSquid();
        string url = $"http://alice:{Password}@127.0.0.1:{squid.Port}";
        var proxied = StartGuest(Manual(url, url));
        Assert.Equal("hello from the test host\n", Curl(proxied, $"{ViaProxy} http://web.test/"));
        Assert.Equal("hello from the test host\n", Curl(proxied, $"{ViaProxy} https://web.test/"));
        string log = squid.AccessLogWith("CONNECT web.test:443 alice");
        Assert.Contains("GET http://web.test/ alice", log);
        Assert.Contains("CONNECT web.test:443 alice", log);
        Assert.DoesNotContain(Password, proxied.Stderr);
        string shown = ProcessRunner.Run(TestEnvironment.UsernetBinary, "proxy", "show", "--instance", proxied.Instance).Output;
        Assert.Contains("alice:***@127.0.0.1", shown);
        Assert.DoesNotContain(Password, shown);
    }

    [RootFact]
    public void ThroughDanteAsSocks5hWithAUserAndPassword()
    {
        var dante = Own(Dante.Start(world.Nameserver, Password, world.Host.HostSideAddress));
        string url = $"socks5h://{dante.User}:{Password}@127.0.0.1:{dante.Port}";
        var guest = StartGuest(Manual(url, url));
        string plain = Curl(guest, $"{ViaProxy} http://web.test/");
        Assert.True(plain == "hello from the test host\n", plain + dante.Log);
        Assert.Equal("hello from the test host\n", Curl(guest, $"{ViaProxy} https://web.test/"));
        Assert.Contains(dante.User, dante.Log);
        Assert.Contains($"{world.Host.Address}.443", dante.Log);
    }

    [RootFact]
    public void TransparentPortsGoThroughSquidWithoutAnySettingInTheGuest()
    {
        var squid = StartSquid();
        string url = $"http://alice:{Password}@127.0.0.1:{squid.Port}";
        var guest = StartGuest($$"""
            "containersProxy": { "mode": "manual", "http": "{{url}}", "https": "{{url}}", "transparentPorts": "80,443" }
            """);
        Assert.Equal("hello from the test host\n", Curl(guest, "http://web.test/"));
        Assert.Equal("hello from the test host\n", Curl(guest, "https://web.test/"));
        Assert.Equal("port 8080 host web.test\n", Curl(guest, "http://web.test:8080/echo"));
        string log = squid.AccessLogWith("CONNECT web.test:443 alice");
        Assert.Contains("GET http://web.test/ alice", log);
        Assert.Contains("CONNECT web.test:443 alice", log);
        Assert.DoesNotContain("8080", log);
        // An address no name was asked for goes by its address.
        Assert.Equal("hello from the test host\n", Curl(guest, $"http://{world.Host.Address}/"));
        Assert.Contains($"GET http://{world.Host.Address}/ alice", squid.AccessLog);
    }

    [RootFact]
    public void PacSendsBlockedCorpAndOtherNamesThreeWays()
    {
        var squid = StartSquid();
        string pac = Path.Combine(_settingsDirectory, "proxy.pac");
        File.WriteAllText(pac, $$"""
            function FindProxyForURL(url, host) {
                if (shExpMatch(host, "*.blocked.test")) return "PROXY reject.docker.internal:80";
                if (dnsDomainIs(host, ".corp.test")) return "PROXY 127.0.0.1:{{squid.Port}}";
                return "DIRECT";
            }
            """);
        string url = $"http://alice:{Password}@127.0.0.1:{squid.Port}";
        var guest = StartGuest($$"""
            "proxy": { "mode": "manual", "http": "{{url}}", "pac": "{{pac}}" }
            """);
        string blocked = Curl(guest, $"{ViaProxy} -w '%{{http_code}}' http://a.blocked.test/");
        Assert.Contains("403", blocked);
        Assert.Contains("blocked", blocked);
        Assert.Contains("reject.docker.internal", blocked);
        Assert.Equal("hello from the test host\n", Curl(guest, $"{ViaProxy} http://web.corp.test/"));
        Assert.Equal("hello from the test host\n", Curl(guest, $"{ViaProxy} http://web.other.test/"));
        string log = squid.AccessLog;
        Assert.Contains("GET http://web.corp.test/ alice", log);
        Assert.DoesNotContain("web.other.test", log);
        Assert.DoesNotContain("blocked.test", log);
    }

    [RootFact]
    public void AnUnusablePacBlocksAndSaysWhy()
    {
        var guest = StartGuest("""
            "proxy": { "mode": "manual", "pac": "/nonexistent/usernet-test.pac" }
            """);
        string answer = Curl(guest, $"{ViaProxy} -w '%{{http_code}}' http://web.test/");
        Assert.Contains("403", answer);
        Assert.Contains("does not exist", answer);
        Assert.Contains("PAC", guest.Stderr);
    }

    [RootFact]
    public async Task ChangingTheUpstreamDuringA1GiBTunnelDownloadKeepsItAndMovesTheNextRequest()
    {
        string big = Path.Combine(world.Root, "one-gib");
        if (!File.Exists(big))
        {
            ProcessRunner.Check(ProcessRunner.Shell($"head -c 1073741824 /dev/urandom > {big}.tmp && mv {big}.tmp {big}", TimeSpan.FromSeconds(120)));
        }
        string expected = ProcessRunner.Check(ProcessRunner.Shell($"sha256sum {big}", TimeSpan.FromSeconds(60))).Split(' ')[0];
        var first = StartSquid();
        var second = StartSquid();
        string firstUrl = $"http://alice:{Password}@127.0.0.1:{first.Port}";
        string secondUrl = $"http://alice:{Password}@127.0.0.1:{second.Port}";
        var guest = StartGuest(Manual(firstUrl, firstUrl));
        var download = Task.Run(() => guest.Shell(
            $"curl -sS --max-time 280 -p {ViaProxy} http://web.test:8080/one-gib | sha256sum", TimeSpan.FromSeconds(300)));
        // Wait until bytes flow, then move the upstream under it.
        Assert.True(Wait.Until(() => guest.Stats().GetProperty("tcp").GetProperty("bytesToGuest").GetInt64() > 50_000_000, 60));
        WriteSettings(Manual(secondUrl, secondUrl));
        Assert.True(Wait.Until(() => guest.Stats().GetProperty("proxy").GetProperty("reloads").GetInt64() >= 1, 10));
        Assert.False(download.IsCompleted);
        var result = await download;
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(expected, result.Stdout.Split(' ')[0]);
        Assert.Equal("hello from the test host\n", Curl(guest, $"{ViaProxy} http://web.test/"));
        Assert.Contains("CONNECT web.test:8080 alice", first.AccessLogWith("CONNECT web.test:8080 alice"));
        Assert.Contains("GET http://web.test/ alice", second.AccessLog);
        Assert.DoesNotContain("GET http://web.test/", first.AccessLog);
    }

    [RootFact]
    public void InvalidNewSettingsAreRefusedWithTheReasonAndTheOldStay()
    {
        var squid = StartSquid();
        string url = $"http://alice:{Password}@127.0.0.1:{squid.Port}";
        var guest = StartGuest(Manual(url, url));
        File.WriteAllText(SettingsPath, """{ "proxy": { "mode": "manual", "http": "ftp://nowhere" } }""");
        var reload = ProcessRunner.Run(TestEnvironment.UsernetBinary, "proxy", "reload", "--instance", guest.Instance);
        Assert.NotEqual(0, reload.ExitCode);
        Assert.Contains("proxy.http", reload.Stderr);
        Assert.Equal("hello from the test host\n", Curl(guest, $"{ViaProxy} http://web.test/"));
        Assert.Contains("GET http://web.test/ alice", squid.AccessLog);
    }

    [RootFact]
    public void WrongCredentialsDeadUpstreamAndUnknownHostsGive502WithTheReason()
    {
        var squid = StartSquid();
        string wrong = $"http://alice:wrong-pw@127.0.0.1:{squid.Port}";
        var guest = StartGuest(Manual(wrong, wrong));
        string plain = Curl(guest, $"{ViaProxy} -w '%{{http_code}}' http://web.test/");
        Assert.Contains("502", plain);
        Assert.Contains("refused authentication", plain);
        string tunnel = Curl(guest, $"{ViaProxy} -v https://web.test/");
        Assert.Contains("502", tunnel);
        Assert.Contains("refused authentication", tunnel);
        Assert.DoesNotContain("wrong-pw", plain + tunnel + guest.Stderr);

        string dead = $"http://127.0.0.1:{Ports.Free()}";
        WriteSettings(Manual(dead, dead));
        Assert.Equal(0, ProcessRunner.Run(TestEnvironment.UsernetBinary, "proxy", "reload", "--instance", guest.Instance).ExitCode);
        var watch = Stopwatch.StartNew();
        string refused = Curl(guest, $"{ViaProxy} -w '%{{http_code}}' http://web.test/");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.Contains("502", refused);
        Assert.Contains("connection refused", refused);

        WriteSettings("");
        Assert.Equal(0, ProcessRunner.Run(TestEnvironment.UsernetBinary, "proxy", "reload", "--instance", guest.Instance).ExitCode);
        string unknown = Curl(guest, $"{ViaProxy} -w '%{{http_code}}' http://nowhere.test/");
        Assert.Contains("502", unknown);
        Assert.Contains("DNS lookup of nowhere.test failed: no such name (NXDOMAIN)", unknown);
    }

    /// <summary>
    /// A fake upstream on loopback that asks every request for Negotiate, as a Kerberos-only
    /// corporate proxy does, and a host with no ticket (an empty krb5.conf and a credential
    /// cache that does not exist, the test's own): both a tunnel and a plain request take up
    /// the exchange and say clearly that the host has no Kerberos ticket. (The real exchange,
    /// with a KDC, is in ProxyTests.Kerberos.cs.)
    /// </summary>
    [RootFact]
    public async Task NegotiateWithoutATicketGivesAClearErrorForTunnelsAndPlainRequests()
    {
        using var fake = new TcpListener(IPAddress.Loopback, 0);
        fake.Start();
        int port = ((IPEndPoint)fake.LocalEndpoint).Port;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var requests = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var server = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await fake.AcceptTcpClientAsync(stop.Token);
                var buffer = new byte[8192];
                int n = await client.GetStream().ReadAtLeastAsync(buffer, 1, throwOnEndOfStream: false, stop.Token);
                requests.Enqueue(Encoding.ASCII.GetString(buffer, 0, n).Split("\r\n")[0]);
                await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(
                    "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), stop.Token);
            }
        }, stop.Token);
        string url = $"http://127.0.0.1:{port}";
        var guest = StartGuestWithoutKerberos(url, $"KRB5CCNAME=FILE:{_settingsDirectory}/no-such-ccache");
        string tunnel = Curl(guest, $"{ViaProxy} -v https://web.test/");
        string plain = Curl(guest, $"{ViaProxy} -w '%{{http_code}}' http://web.test/");
        await stop.CancelAsync();
        Assert.Contains("502", tunnel);
        Assert.Contains("asks for Negotiate authentication: there is no Kerberos ticket on the host", tunnel);
        Assert.Contains("502", plain);
        Assert.Contains("asks for Negotiate authentication: there is no Kerberos ticket on the host", plain);
        Assert.Contains("CONNECT web.test:443 HTTP/1.1", requests);
        Assert.Contains("GET http://web.test/ HTTP/1.1", requests);
    }

    [RootFact]
    public void TwoHundredConcurrentTunnelsStayIntact()
    {
        var guest = StartGuest("");
        string expected = ProcessRunner.Check(ProcessRunner.Shell($"sha256sum < {world.Root}/one-mib")).Split(' ')[0];
        var result = guest.Shell(
            "dir=$(mktemp -d); for i in $(seq 1 200); do " +
            $"curl -sS --max-time 120 -p {ViaProxy} http://web.test:8080/one-mib -o $dir/$i 2>$dir/$i.err & done; wait; " +
            "sha256sum $dir/* | grep -v '\\.err' | awk '{print $1}' | sort | uniq -c; cat $dir/*.err; rm -rf $dir", TimeSpan.FromSeconds(200));
        // The whole output on failure: the curl errors follow the counts.
        Assert.True(result.Stdout.Trim().Split('\n')[0].Trim() == $"200 {expected}", result.ToString());
        Assert.True(guest.Stats().GetProperty("proxy").GetProperty("tunnels").GetInt64() >= 200);
    }

    [RootFact]
    public void MalformedRequestsGet400AndTheProxyGoesOn()
    {
        var guest = StartGuest("");
        string Raw(string request) =>
            guest.Shell($"printf '{request}' | timeout 10 busybox nc 192.168.65.1 3128", TimeSpan.FromSeconds(20)).Stdout;
        Assert.StartsWith("HTTP/1.1 400", Raw("GARBAGE\\r\\n\\r\\n"));
        Assert.StartsWith("HTTP/1.1 400", Raw("GET http://web.test/ HTTP/1.1\\r\\nHost web.test\\r\\n\\r\\n"));
        Assert.StartsWith("HTTP/1.1 400", Raw("CONNECT web.test:https HTTP/1.1\\r\\nHost: web.test\\r\\n\\r\\n"));
        // To an origin that waits for the body: nginx would answer first, and that answer would stand.
        Assert.StartsWith("HTTP/1.1 400", Raw($"POST http://web.test:{ScriptedOrigin.Port}/consume HTTP/1.1\\r\\nHost: web.test\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\nhello\\r\\n0\\r\\n\\r\\n"));
        string big = Curl(guest, $"{ViaProxy} -w '%{{http_code}}' -H \"X-Big: $(head -c 40000 /dev/zero | tr '\\0' a)\" http://web.test/");
        Assert.Contains("400", big);
        Assert.Contains("larger than", big);
        // A valid chunked upload and Expect: 100-continue still work, and the proxy still serves.
        Assert.StartsWith("got", Curl(guest, $"{ViaProxy} -H 'Transfer-Encoding: chunked' -d hello http://web.test/post"));
        // nginx answers 100 Continue and then 200 at once, while curl is still sending the body.
        var upload = guest.Shell(
            $"head -c 200000 {world.Root}/one-mib | curl -sS --max-time 20 {ViaProxy} -H 'Expect: 100-continue' --data-binary @- http://web.test/post");
        Assert.True(upload.Stdout == "got 200000\n", $"curl printed \"{upload.Stdout}\", and on stderr: {upload.Stderr}");
        Assert.Equal("hello from the test host\n", Curl(guest, $"{ViaProxy} http://web.test/"));
        Assert.True(guest.Stats().GetProperty("proxy").GetProperty("malformed").GetInt64() >= 5);
    }
}
