using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// The DNS server on the gateway, asked by real dig, getent and curl in the guest. Usernet runs
/// in a private mount namespace whose /etc/hosts and /etc/resolv.conf are test files, and its
/// upstreams are dnsmasq on loopback addresses of their own: nothing reaches the machine's
/// resolver.
/// </summary>
public sealed class DnsTests
{
    private const string Hosts = """
        198.18.77.7 onlyinhosts.test
        198.18.77.8 dual.test
        fd00:77::8 dual.test
        fd00:77::9 v6only.test

        """;

    private static ProcessResult Check(ProcessResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    [RootFact]
    public void BuiltInNamesResolveForDigGetentAndCurl()
    {
        using var nginx = Nginx.Start();
        using var resolver = new IsolatedResolver("");
        // An IPv4-only guest: dnsInhibition auto withholds AAAA from it.
        var result = Check(resolver.Run(
            "dig +short host.docker.internal; dig +short gateway.docker.internal; dig +short http.docker.internal; " +
            "dig +short host.containers.internal; dig AAAA host.docker.internal | grep -E 'status|ANSWER:'; " +
            "dig +short nosuch.docker.internal; dig nosuch.docker.internal | grep -o 'status: [A-Z]*'; " +
            "dig +tcp +short host.docker.internal; " +
            $"getent hosts host.docker.internal; curl -sS -m 10 http://host.docker.internal:{nginx.Port}/",
            "--set", "defaultNetworkingMode=ipv4only"));
        string[] lines = result.Stdout.Split('\n');
        Assert.Equal("192.168.65.254", lines[0]);
        Assert.Equal("192.168.65.1", lines[1]);
        Assert.Equal("192.168.65.1", lines[2]);
        Assert.Equal("192.168.65.254", lines[3]);
        // AAAA: the guest has no IPv6 path, so dnsInhibition auto withholds it: NODATA, not NXDOMAIN.
        Assert.Contains("status: NOERROR", lines[4]);
        Assert.Contains("ANSWER: 0", lines[5]);
        Assert.Equal("status: NXDOMAIN", lines[6]);
        Assert.Equal("192.168.65.254", lines[7]);
        Assert.Matches(@"^192\.168\.65\.254\s+host\.docker\.internal$", lines[8]);
        Assert.Equal("hello from nginx", lines[9]);

        // With nothing withheld, AAAA is the host's IPv6 address on the guest network.
        var v6 = Check(resolver.Run("dig +short AAAA host.docker.internal; dig +short AAAA gateway.docker.internal",
            "--set", "dnsInhibition=none", "--set", "defaultNetworkingMode=ipv4only"));
        Assert.Equal("fdc4:f303:9324::254\nfdc4:f303:9324::1\n", v6.Stdout);

        // A dual-stack guest has an IPv6 path, so auto gives it the built-in names' AAAA, over IPv6 too.
        var dual = Check(resolver.Run("dig +short AAAA host.docker.internal; dig +short @fdc4:f303:9324::1 host.docker.internal",
            "--set", "defaultNetworkingMode=dual-stack"));
        Assert.Equal("fdc4:f303:9324::254\n192.168.65.254\n", dual.Stdout);
    }

    [RootFact]
    public void NamesOfTheHostsResolverAndOfTheUpstreamResolveInTheGuest()
    {
        using var upstream = Dnsmasq.Start(
            "--mx-host=mail.test,mx1.test,10", "--txt-record=info.test,v=usernet test",
            "--srv-host=_http._tcp.svc.test,web.test,8080,0,5", "--host-record=viadns.test,198.18.88.1");
        using var resolver = new IsolatedResolver(Hosts, upstream.Address);
        var result = Check(resolver.Run(
            "dig +short onlyinhosts.test; dig +short viadns.test; dig +short AAAA dual.test; " +
            "dig AAAA onlyinhosts.test | grep -E -o 'status: [A-Z]+|ANSWER: [0-9]+'; " +
            "dig nosuch.test | grep -E -o 'status: [A-Z]+'; " +
            "dig +short MX mail.test; dig +short TXT info.test; dig +short SRV _http._tcp.svc.test; " +
            // The guest's own /etc/hosts is the host's real one: getent must ask the DNS server.
            "umount /etc/hosts; grep -c onlyinhosts /etc/hosts; getent hosts onlyinhosts.test; getent ahostsv4 viadns.test | head -1",
            "--set", "dnsInhibition=none"));
        string[] lines = result.Stdout.Split('\n');
        Assert.Equal("198.18.77.7", lines[0]);
        Assert.Equal("198.18.88.1", lines[1]);
        Assert.Equal("fd00:77::8", lines[2]);
        Assert.Equal(["status: NOERROR", "ANSWER: 0"], lines[3..5]);
        Assert.Equal("status: NXDOMAIN", lines[5]);
        Assert.Equal("10 mx1.test.", lines[6]);
        Assert.Equal("\"v=usernet test\"", lines[7]);
        Assert.Equal("0 5 8080 web.test.", lines[8]);
        Assert.Equal("0", lines[9]);
        Assert.Matches(@"^198\.18\.77\.7\s+onlyinhosts\.test$", lines[10]);
        Assert.Matches(@"^198\.18\.88\.1\s+STREAM viadns\.test$", lines[11]);
    }

    [RootFact]
    public void ALargeAnswerIsTruncatedOverUdpAndWholeOverTcp()
    {
        // 3,000 bytes of TXT: twelve strings of 250.
        string strings = string.Join(",", Enumerable.Range(0, 12).Select(i => "\"" + new string((char)('a' + i), 250) + "\""));
        using var upstream = Dnsmasq.Start($"--txt-record=big.test,{strings}");
        using var resolver = new IsolatedResolver("", upstream.Address);
        var result = Check(resolver.Run(
            "dig +ignore +bufsize=1232 TXT big.test | grep -E '^;; flags:|MSG SIZE'; dig +tcp TXT big.test | grep -E 'status:|MSG SIZE'; " +
            "dig +tcp +short TXT big.test | wc -c"));
        string[] lines = result.Stdout.Split('\n');
        Assert.Matches(@"flags: qr tc rd ra; QUERY: 1, ANSWER: 0", lines[0]);
        Assert.Contains("status: NOERROR", lines[2]);
        int size = int.Parse(System.Text.RegularExpressions.Regex.Match(lines[3], @"rcvd: (\d+)").Groups[1].Value);
        Assert.True(size > 3000, lines[3]);
        Assert.True(int.Parse(lines[4].Trim()) > 3000, lines[4]);
    }

    [RootFact]
    public void AChangedResolvConfTakesEffectWithoutARestart()
    {
        using var first = Dnsmasq.Start("--txt-record=which.test,one");
        using var second = Dnsmasq.Start("--txt-record=which.test,two");
        using var resolver = new IsolatedResolver("", first.Address);
        using var session = resolver.Start();
        Assert.Equal("\"one\"", Check(session.Shell("dig +short TXT which.test")).Stdout.Trim());
        resolver.SetNameservers(second.Address);
        Assert.True(Wait.Until(() => session.Shell("dig +short TXT which.test").Stdout.Trim() == "\"two\"", 10),
            session.Shell("dig TXT which.test").ToString());
        Assert.True(session.Stats().GetProperty("dns").GetProperty("resolvConfReloads").GetInt64() >= 1);
    }

    [RootFact]
    public void EachInhibitionModeWithholdsItsFamily()
    {
        using var resolver = new IsolatedResolver(Hosts);
        // A local record and a name of the host's resolver, both with A and AAAA.
        string script = "for n in local.test dual.test; do for t in A AAAA; do printf '%s ' $n/$t; dig +short $t $n | head -1; echo; done; done";
        var expected = new Dictionary<string, (bool A, bool Aaaa)>
        {
            ["none"] = (true, true),
            ["ipv4"] = (false, true),
            ["ipv6"] = (true, false),
            // In an IPv4-only guest auto withholds AAAA; this host has an IPv4 path.
            ["auto"] = (true, false),
        };
        foreach (var (mode, (a, aaaa)) in expected)
        {
            var result = Check(resolver.Run(script, "--set", $"dnsInhibition={mode}", "--set", "dns.records=local.test=198.18.99.9,fd00:99::9",
                "--set", "defaultNetworkingMode=ipv4only"));
            var answers = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();
            Assert.Equal(
                [a ? "local.test/A 198.18.99.9" : "local.test/A", aaaa ? "local.test/AAAA fd00:99::9" : "local.test/AAAA",
                 a ? "dual.test/A 198.18.77.8" : "dual.test/A", aaaa ? "dual.test/AAAA fd00:77::8" : "dual.test/AAAA"],
                answers);
        }
        // Withheld is NODATA: NOERROR with no answer.
        var nodata = Check(resolver.Run("dig A dual.test | grep -o 'status: [A-Z]*'", "--set", "dnsInhibition=ipv4"));
        Assert.Equal("status: NOERROR", nodata.Stdout.Trim());
    }

    [RootFact]
    public void ADeadUpstreamIsServfailWithinTheTimeout()
    {
        // A nameserver that takes queries and never answers.
        string address = Dnsmasq.UniqueLoopbackAddress();
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Parse(address), 53));
        using var resolver = new IsolatedResolver("", address);
        var result = Check(resolver.Run(
            "s=$(date +%s%N); dig +tries=1 +timeout=10 TXT dead.test | grep -o 'status: [A-Z]*'; e=$(date +%s%N); echo ms=$(( (e - s) / 1000000 )); " +
            "s=$(date +%s%N); dig +tries=1 +timeout=10 dead.test | grep -o 'status: [A-Z]*'; e=$(date +%s%N); echo ms=$(( (e - s) / 1000000 ))",
            "--set", "dns.timeoutSeconds=1"));
        string[] lines = result.Stdout.Split('\n');
        // Forwarded (TXT) and through the host's resolver (A) alike.
        Assert.Equal("status: SERVFAIL", lines[0]);
        Assert.Equal("status: SERVFAIL", lines[2]);
        foreach (string line in new[] { lines[1], lines[3] })
        {
            int ms = int.Parse(line.Split("ms=")[1]);
            Assert.True(ms is >= 900 and < 2500, $"SERVFAIL after {ms} ms");
        }
    }

    [RootFact]
    public void FuzzedQueriesLeaveTheServerAnswering()
    {
        using var resolver = new IsolatedResolver("");
        using var session = resolver.Start();
        // 3,000 datagrams: random bytes, captured queries with bytes changed or cut, and
        // compression loops; then garbage over TCP. Seeded, so a failure repeats. After every
        // 100, a valid query's answer (from another socket) says that Usernet has read them all:
        // unpaced, the burst overflowed a queue on a loaded machine (2,344 of 3,000 arrived).
        string fuzz = """
            import random, socket
            random.seed(5)
            dig = bytes.fromhex('17cb0120000100000000000104686f737406646f636b657208696e7465726e616c000001000100002904d000000000000c000a000888c8dca092abeaf2')
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sync = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sync.settimeout(5)
            for i in range(3000):
                if i % 100 == 99:
                    for attempt in range(3):
                        sync.sendto(dig, ('192.168.65.1', 53))
                        try:
                            sync.recv(512)
                            break
                        except socket.timeout:
                            pass
                k = i % 4
                if k == 0:
                    q = bytes(random.getrandbits(8) for _ in range(random.randrange(0, 300)))
                elif k == 1:
                    q = bytearray(dig)
                    for _ in range(random.randrange(1, 6)):
                        q[random.randrange(len(q))] = random.getrandbits(8)
                elif k == 2:
                    q = dig[:random.randrange(0, len(dig))]
                else:
                    q = bytes.fromhex('beef01000001000000000000') + bytes([0xc0, 12 + random.randrange(0, 4), 0, 1, 0, 1])
                u.sendto(bytes(q), ('192.168.65.1', 53))
            for n in range(20):
                t = socket.create_connection(('192.168.65.1', 53), timeout=5)
                t.sendall(bytes(random.getrandbits(8) for _ in range(random.randrange(2, 600))))
                t.close()
            print('sent')
            """;
        Check(session.Exec(["python3", "-c", fuzz], TimeSpan.FromSeconds(60)));
        Assert.Equal("192.168.65.254", Check(session.Shell("dig +short host.docker.internal")).Stdout.Trim());
        Assert.Equal("192.168.65.254", Check(session.Shell("dig +tcp +short host.docker.internal")).Stdout.Trim());
        var stats = session.Stats();
        var dns = stats.GetProperty("dns");
        Assert.True(dns.GetProperty("queries").GetInt64() >= 2900, dns.ToString());
        Assert.True(dns.GetProperty("formerr").GetInt64() + dns.GetProperty("droppedMalformed").GetInt64() > 500, dns.ToString());
        Assert.Equal(0, stats.GetProperty("loopFaults").GetInt64());
    }

    [RootFact]
    public void RecordsAddedWithTheCliResolveAndGoAway()
    {
        using var resolver = new IsolatedResolver("");
        using var session = resolver.Start();
        ProcessResult Cli(params string[] arguments) =>
            ProcessRunner.Run(TestEnvironment.UsernetBinary, ["dns", .. arguments, "--instance", session.Instance], TimeSpan.FromSeconds(10));

        Check(Cli("add", "web.vm.docker.internal", "192.168.65.10"));
        Check(Cli("add", "Web.VM.docker.internal.", "fd00::10"));
        Check(Cli("add", "db.corp.test", "198.18.1.2"));
        Assert.Equal("192.168.65.10", Check(session.Shell("dig +short web.vm.docker.internal")).Stdout.Trim());
        Assert.Equal("198.18.1.2", Check(session.Shell("dig +short db.corp.test")).Stdout.Trim());
        string list = Check(Cli("ls")).Stdout;
        Assert.Matches(@"web\.vm\.docker\.internal\s+A\s+192\.168\.65\.10\s+api", list);
        Assert.Matches(@"web\.vm\.docker\.internal\s+AAAA\s+fd00::10\s+api", list);
        Assert.Matches(@"host\.docker\.internal\s+A\s+192\.168\.65\.254\s+built-in", list);
        using (var document = JsonDocument.Parse(Check(Cli("ls", "--json")).Stdout))
        {
            Assert.Contains(document.RootElement.EnumerateArray(), r => r.GetProperty("name").GetString() == "db.corp.test");
        }

        Check(Cli("rm", "web.vm.docker.internal", "192.168.65.10"));
        Check(Cli("rm", "web.vm.docker.internal"));
        Assert.Contains("status: NXDOMAIN", Check(session.Shell("dig web.vm.docker.internal")).Stdout);

        var badName = Cli("add", "bad..name", "10.0.0.1");
        Assert.Equal(1, badName.ExitCode);
        Assert.Contains("'bad..name' is not a valid domain name", badName.Stderr);
        var badAddress = Cli("add", "ok.test", "10.0.0.256");
        Assert.Equal(1, badAddress.ExitCode);
        Assert.Contains("'10.0.0.256' is not an IP address", badAddress.Stderr);
        var builtIn = Cli("rm", "host.docker.internal");
        Assert.Equal(1, builtIn.ExitCode);
        Assert.Contains("built-in", builtIn.Stderr);
        var missing = Cli("rm", "nothing.test");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no record for nothing.test", missing.Stderr);
        Assert.Equal(2, Cli("frobnicate").ExitCode);
    }
}
