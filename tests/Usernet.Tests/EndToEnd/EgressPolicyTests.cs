using System.Text.Json;
using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// The egress policy against a real guest kernel and real servers on a test host: under a
/// deny default, one allowed TCP port works, every other port and host is refused at once
/// (RST: "Connection refused"), and UDP gets ICMP "administratively prohibited". Name rules
/// hold for addresses the DNS server (forwarding to a dnsmasq test upstream) gave for them.
/// </summary>
public sealed class EgressPolicyTests : IDisposable
{
    /// <summary>The settings files a test writes; removed with it.</summary>
    private readonly string _directory = Directory.CreateTempSubdirectory("usernet-policy-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A connected UDP socket sends once and reads: an ICMP error comes back as the read's errno.</summary>
    private const string UdpProbe = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.connect((sys.argv[1], int(sys.argv[2])))
        s.send(b"probe")
        try:
            s.recv(100)
            print("answered")
        except socket.timeout:
            print("timeout")
        except OSError as e:
            print("errno=%d" % e.errno)
        """;

    /// <summary>A TCP connect() that prints how it ended: curl says only "Couldn't connect to server".</summary>
    private const string TcpProbe = """
        import errno, socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect((sys.argv[1], int(sys.argv[2])))
            print("connected")
        except socket.timeout:
            print("timeout")
        except OSError as e:
            print(errno.errorcode.get(e.errno, str(e.errno)))
        """;

    [RootFact]
    public void UnderADenyDefaultOnlyTheAllowedPortIsReachable()
    {
        using var host = TestHost.Create();
        using var allowed = Nginx.Start(host.Address, host);
        using var other = Nginx.Start(root => $"listen {host.Address}:8081; root {root};", 8081, host);
        string rules = $$"""[{"action": "allow", "to": "{{host.Address}}/32", "ports": "{{allowed.Port}}", "protocols": ["tcp"]}]""";
        using var session = GuestSession.Start("--set", "egress.default=deny", "--set", $"egress.rules={rules}");

        var ok = session.Exec(["curl", "-sS", "--max-time", "10", $"http://{host.Address}:{allowed.Port}/"]);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("hello from nginx", ok.Stdout);

        // Refused at once: without the policy the other port answers, and the vacant address would
        // time out; an RST makes connect() fail with "connection refused".
        foreach (var (address, port) in new[] { (host.Address, 8081), (host.Vacant, allowed.Port) })
        {
            var refused = session.Exec(["python3", "-c", TcpProbe, address, port.ToString()]);
            Assert.True(refused.ExitCode == 0, refused.ToString());
            Assert.Equal("ECONNREFUSED", refused.Stdout.Trim());
        }

        // ICMP type 3 code 13 reaches the guest's UDP socket as EHOSTUNREACH (113).
        var udp = session.Exec(["python3", "-c", UdpProbe, host.Address, "7000"]);
        Assert.True(udp.ExitCode == 0, udp.ToString());
        Assert.Contains("errno=113", udp.Stdout);

        var stats = session.Stats();
        var egress = stats.GetProperty("egress");
        Assert.Equal("deny", egress.GetProperty("default").GetString());
        var rule = Assert.Single(egress.GetProperty("rules").EnumerateArray());
        Assert.Equal(1, rule.GetProperty("flows").GetInt64());
        Assert.Equal($"allow {host.Address}/32 ports {allowed.Port} tcp", rule.GetProperty("rule").GetString());
        Assert.Equal(3, egress.GetProperty("defaultDenied").GetInt64());
        Assert.Equal(3, GuestSession.Drop(stats, "egressDenied"));

        // The flow log: the allowed connection with its rule, and each denied SYN as a refused
        // flow of its own. The denied UDP datagram made no flow: it is counted only.
        string[] lines = [];
        Assert.True(Support.Wait.Until(() =>
        {
            lines = ProcessRunner.Run(TestEnvironment.UsernetBinary, "flows", "--json", "--instance", session.Instance).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return lines.Length >= 3;
        }, 10), string.Join('\n', lines));
        var flows = lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        var allowedFlow = Assert.Single(flows, f => f.GetProperty("destination").GetString() == $"{host.Address}:{allowed.Port}");
        Assert.Equal("allow", allowedFlow.GetProperty("verdict").GetString());
        Assert.Equal("egress.rules[0]", allowedFlow.GetProperty("rule").GetString());
        foreach (string destination in new[] { $"{host.Address}:8081", $"{host.Vacant}:{allowed.Port}" })
        {
            var denied = Assert.Single(flows, f => f.GetProperty("destination").GetString() == destination);
            Assert.Equal("deny", denied.GetProperty("verdict").GetString());
            Assert.Equal("egress.default", denied.GetProperty("rule").GetString());
            Assert.Equal("refused", denied.GetProperty("end").GetString());
        }
        Assert.DoesNotContain(flows, f => f.GetProperty("proto").GetString() == "udp");

        // The same verdicts in /metrics, by rule.
        string metrics = ProcessRunner.Run(TestEnvironment.UsernetBinary, "stats", "--prometheus", "--instance", session.Instance).Stdout;
        Assert.Contains($"usernet_egress_verdicts_total{{rule=\"egress.rules[0]\",verdict=\"allow\"}} 1\n", metrics);
        Assert.Contains($"usernet_egress_verdicts_total{{rule=\"egress.default\",verdict=\"deny\"}} 3\n", metrics);
    }

    [RootFact]
    public void AnIcmpTcpRefusalMakesConnectFailWithNoRouteToHost()
    {
        using var host = TestHost.Create();
        using var server = Nginx.Start(host.Address, host);
        using var session = GuestSession.Start("--set", "egress.tcpRefusal=icmp", "--set", $$"""egress.rules=[{"action": "deny", "to": "{{host.Address}}"}]""");
        var refused = session.Exec(["python3", "-c", TcpProbe, host.Address, server.Port.ToString()]);
        Assert.True(refused.ExitCode == 0, refused.ToString());
        Assert.Equal("EHOSTUNREACH", refused.Stdout.Trim());
    }

    [RootTheory]
    [InlineData("nxdomain", "NXDOMAIN")]
    [InlineData("refused", "REFUSED")]
    public void ADomainAllowListHoldsForAddressesAndNamesAlike(string dnsRefusal, string status)
    {
        using var allowedHost = TestHost.Create();
        using var otherHost = TestHost.Create();
        using var allowed = Nginx.Start(allowedHost.Address, allowedHost);
        using var other = Nginx.Start(otherHost.Address, otherHost);
        using var upstream = Dnsmasq.Start($"--host-record=api.allowed.test,{allowedHost.Address}", $"--host-record=other.test,{otherHost.Address}");
        string rules = $$"""[{"action": "allow", "to": "*.allowed.test", "ports": "{{allowed.Port}}", "protocols": ["tcp"]}]""";
        using var session = GuestSession.Start(
            "--set", "dns.hostResolver=false", "--set", $"dns.servers={upstream.Address}",
            "--set", "egress.default=deny", "--set", $"egress.rules={rules}", "--set", $"egress.dnsRefusal={dnsRefusal}");

        // Before any name gave it, the allowed host's address is just an address: refused.
        var early = session.Exec(["python3", "-c", TcpProbe, allowedHost.Address, allowed.Port.ToString()]);
        Assert.Equal("ECONNREFUSED", early.Stdout.Trim());

        var ok = session.Exec(["curl", "-sS", "--max-time", "10", $"http://api.allowed.test:{allowed.Port}/"]);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("hello from nginx", ok.Stdout);

        // Now the name gave it, the address is the name's (for its TTL and a grace period)...
        var byAddress = session.Exec(["python3", "-c", TcpProbe, allowedHost.Address, allowed.Port.ToString()]);
        Assert.Equal("connected", byAddress.Stdout.Trim());
        // ...but only on the rule's port, and no other address is.
        Assert.Equal("ECONNREFUSED", session.Exec(["python3", "-c", TcpProbe, allowedHost.Address, "8081"]).Stdout.Trim());
        Assert.Equal("ECONNREFUSED", session.Exec(["python3", "-c", TcpProbe, otherHost.Address, other.Port.ToString()]).Stdout.Trim());

        var dig = session.Shell("dig +time=2 +tries=1 other.test | grep -E -o 'status: [A-Z]+'; dig +short +time=2 +tries=1 api.allowed.test");
        Assert.Equal($"status: {status}\n{allowedHost.Address}\n", dig.Stdout);

        // The proxy refuses a denied name with 403, naming what refused it.
        var proxied = session.Exec(["curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "-D", "-",
            "-x", "http://192.168.65.1:3128", $"http://other.test:{other.Port}/"]);
        Assert.Contains("403", proxied.Stdout);
        Assert.Contains("egress.default deny", proxied.Stdout);
        var viaProxy = session.Exec(["curl", "-sS", "--max-time", "10", "-x", "http://192.168.65.1:3128", $"http://api.allowed.test:{allowed.Port}/"]);
        Assert.True(viaProxy.ExitCode == 0, viaProxy.ToString());
        Assert.Contains("hello from nginx", viaProxy.Stdout);

        var stats = session.Stats();
        Assert.True(stats.GetProperty("dns").GetProperty("egressRefused").GetInt64() >= 1, stats.ToString());
        Assert.True(stats.GetProperty("egress").GetProperty("learnedAddresses").GetInt64() >= 1, stats.ToString());
    }

    [RootFact]
    public void ThePolicyReloadsWithoutARestartAndBadRulesLeaveTheOldInForce()
    {
        using var host = TestHost.Create();
        using var first = Nginx.Start(host.Address, host);
        using var second = Nginx.Start(root => $"listen {host.Address}:8081; root {root};", 8081, host);
        string settings = Path.Combine(_directory, "settings.json");
        string Allow(string port) => $$$"""{"egress": {"default": "deny", "rules": [{"action": "allow", "to": "{{{host.Address}}}", "ports": "{{{port}}}"}]}}""";
        File.WriteAllText(settings, Allow(first.Port.ToString()));
        using var session = GuestSession.Start("--settings", settings);
        string Probe(int port) => session.Exec(["python3", "-c", TcpProbe, host.Address, port.ToString()]).Stdout.Trim();
        ProcessResult Reload() => ProcessRunner.Run(TestEnvironment.UsernetBinary, "policy", "reload", "--instance", session.Instance);
        Assert.Equal("connected", Probe(first.Port));
        Assert.Equal("ECONNREFUSED", Probe(8081));

        // A bad rule is refused, naming the field, and the policy in force stays.
        File.WriteAllText(settings, Allow("70000"));
        var refused = Reload();
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("egress.rules[0].ports: \"70000\" is not a port", refused.Stderr);
        Assert.Equal("connected", Probe(first.Port));
        Assert.Equal("ECONNREFUSED", Probe(8081));

        File.WriteAllText(settings, Allow("8081"));
        var applied = Reload();
        Assert.True(applied.ExitCode == 0, applied.ToString());
        Assert.Contains($"[0] allow {host.Address}/32 ports 8081", applied.Stdout);
        Assert.Equal("connected", Probe(8081));
        Assert.Equal("ECONNREFUSED", Probe(first.Port));

        // A change of the file alone is applied too (it is looked at every second).
        File.WriteAllText(settings, """{"egress": {"default": "allow"}}""");
        string seen = "";
        for (int i = 0; i < 50 && seen != "connected"; i++)
        {
            Thread.Sleep(200);
            seen = Probe(first.Port);
        }
        Assert.Equal("connected", seen);
        var egress = session.Stats().GetProperty("egress");
        Assert.True(egress.GetProperty("reloads").GetInt64() >= 2, egress.ToString());
        Assert.True(egress.GetProperty("reloadsRefused").GetInt64() >= 1, egress.ToString());
    }

    [RootFact]
    public void AnAdminLockedDenyCannotBeUndoneByAUserAllowAndConfigSaysWhy()
    {
        using var host = TestHost.Create();
        using var server = Nginx.Start(host.Address, host);
        string admin = Path.Combine(_directory, "admin-settings.json");
        File.WriteAllText(admin, """{"egress": {"rules": {"locked": true, "value": [{"action": "deny", "to": "HOST"}]}}}""".Replace("HOST", host.Address, StringComparison.Ordinal));
        string settings = Path.Combine(_directory, "settings.json");
        File.WriteAllText(settings, """{"egress": {"rules": [{"action": "allow", "to": "198.18.0.0/15"}]}}""");
        using var session = GuestSession.StartWrapped(["env", $"USERNET_ADMIN_SETTINGS={admin}"], "--settings", settings);

        Assert.Equal("ECONNREFUSED", session.Exec(["python3", "-c", TcpProbe, host.Address, server.Port.ToString()]).Stdout.Trim());
        Assert.Equal("connected", session.Exec(["python3", "-c", TcpProbe, "192.168.65.1", "53"]).Stdout.Trim());
        var rules = session.Stats().GetProperty("egress").GetProperty("rules").EnumerateArray().ToList();
        Assert.Equal(2, rules.Count);
        Assert.True(rules[0].GetProperty("admin").GetBoolean());
        Assert.Equal(1, rules[0].GetProperty("flows").GetInt64());

        var config = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["config", "--settings", settings], TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string> { ["USERNET_ADMIN_SETTINGS"] = admin });
        Assert.True(config.ExitCode == 0, config.ToString());
        Assert.Contains($"(admin, locked: {admin}, then file {settings})", config.Stdout);
        Assert.Contains($"    [0] deny {host.Address}/32    (admin, locked: tried before every user rule)\n", config.Stdout);
        Assert.Contains("    [1] allow 198.18.0.0/15    (user)\n", config.Stdout);
    }

    /// <summary>Two requests on one keep-alive connection, <c>argv[3]</c> seconds apart.</summary>
    private const string KeepAliveClient = """
        import socket, sys, time
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
        def get():
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b"hello from nginx" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return "closed"
                data += chunk
            return "ok"
        print("first " + get(), flush=True)
        time.sleep(float(sys.argv[3]))
        print("second " + get(), flush=True)
        """;

    [RootFact]
    public void AConnectionOpenBeforeAReloadGoesOnAfterItsRuleIsRemoved()
    {
        using var host = TestHost.Create();
        using var server = Nginx.Start(host.Address, host);
        string settings = Path.Combine(_directory, "settings.json");
        File.WriteAllText(settings, """{"egress": {"default": "deny", "rules": [{"action": "allow", "to": "HOST"}]}}""".Replace("HOST", host.Address, StringComparison.Ordinal));
        using var session = GuestSession.Start("--settings", settings);
        var client = Task.Run(() => session.Exec(["python3", "-c", KeepAliveClient, host.Address, server.Port.ToString(), "4"]));
        // The reload comes once the connection is open (the stack holds it), not after a guessed time.
        for (int i = 0; i < 100 && session.Stats().GetProperty("tcp").GetProperty("connections").GetInt64() == 0; i++)
        {
            Thread.Sleep(100);
        }
        File.WriteAllText(settings, """{"egress": {"default": "deny"}}""");
        var reload = ProcessRunner.Run(TestEnvironment.UsernetBinary, "policy", "reload", "--instance", session.Instance);
        Assert.True(reload.ExitCode == 0, reload.ToString());
        Assert.Equal("ECONNREFUSED", session.Exec(["python3", "-c", TcpProbe, host.Address, server.Port.ToString()]).Stdout.Trim());

        // Decided at its SYN under the old rules, the open connection carries on.
        var result = client.Wait(TimeSpan.FromSeconds(30)) ? client.Result : throw new TimeoutException("the keep-alive client did not finish");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("first ok\nsecond ok\n", result.Stdout);
    }
}
