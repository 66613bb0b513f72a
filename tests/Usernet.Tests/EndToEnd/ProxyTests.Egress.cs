using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>The egress policy on transparent connections: the TLS SNI names the destination, not only its address.</summary>
public sealed partial class ProxyTests
{
    [RootFact]
    public void ATransparentConnectionIsDecidedByItsSniToo()
    {
        var squid = StartSquid();
        string url = $"http://alice:{Password}@127.0.0.1:{squid.Port}";
        var guest = StartGuest($$"""
            "containersProxy": { "mode": "manual", "http": "{{url}}", "https": "{{url}}", "transparentPorts": "443" },
            "egress": { "default": "deny", "rules": [{ "action": "allow", "to": "web.test", "ports": "443", "protocols": ["tcp"] }] }
            """);
        Assert.Equal(Hello, Curl(guest, "https://web.test/"));
        Assert.Contains("CONNECT web.test:443 alice", squid.AccessLogWith("CONNECT web.test:443 alice"));

        // The same address, which web.test gave, under another name in the SNI: the transparent
        // proxy reads the name and refuses it (reset: the SYN-ACK came first), so no TLS handshake
        // completes, and the upstream proxy never hears of it.
        string other = Curl(guest, $"--resolve other.test:443:{world.Host.Address} https://other.test/");
        Assert.DoesNotContain(Hello, other);
        Assert.Contains("curl:", other);
        Assert.DoesNotContain("other.test", squid.AccessLog);
        var proxy = guest.Stats().GetProperty("proxy");
        Assert.True(proxy.GetProperty("blocked").GetInt64() >= 1, proxy.ToString());
    }
}
