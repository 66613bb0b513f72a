using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>The other kinds of upstream (https://, socks5://), and reloads that move to a new one.</summary>
public sealed partial class ProxyTests
{
    /// <summary>squid taking TLS itself (https_port), with a certificate from a CA only Usernet is told to trust.</summary>
    [RootFact]
    public void ThroughSquidOverTlsAsAnHttpsUpstream()
    {
        var tls = Own(new TestCertificates("127.0.0.1"));
        var squid = Own(Squid.Start(world.Nameserver, "alice", Password, tls));
        string url = $"https://alice:{Password}@127.0.0.1:{squid.Port}";
        WriteSettings(Manual(url, url));
        // .NET takes the trusted roots from SSL_CERT_FILE, as OpenSSL does.
        var guest = Own(GuestSession.StartWrapped(["env", $"SSL_CERT_FILE={tls.CaPath}"], "--settings", SettingsPath, "--log-level", "info"));
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} http://web.test/"));
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} https://web.test/"));
        string log = squid.AccessLogWith("CONNECT web.test:443 alice");
        Assert.Contains("GET http://web.test/ alice", log);
        Assert.Contains("CONNECT web.test:443 alice", log);

        // Without that CA the proxy's certificate is refused, and the guest is told so.
        var untrusting = StartGuest(Manual(url, url));
        string refused = Curl(untrusting, $"{ViaProxy} -w '%{{http_code}}' http://web.test/");
        Assert.Contains("502", refused);
        Assert.Contains("TLS with the upstream proxy", refused);
        Assert.DoesNotContain(Password, refused + untrusting.Stderr);
    }

    /// <summary>
    /// socks5:// (no h): Usernet resolves the name and hands dante an address. Dante's own
    /// resolver is told web.test is 127.0.0.1, so only a name resolved by Usernet reaches nginx.
    /// </summary>
    [RootFact]
    public void ThroughDanteAsSocks5WithNamesResolvedByUsernet()
    {
        var dante = Own(Dante.Start(world.Nameserver, Password, world.Host.HostSideAddress, hosts: "127.0.0.1 web.test\n"));
        string url = $"socks5://{dante.User}:{Password}@127.0.0.1:{dante.Port}";
        var guest = StartGuest(Manual(url, url));
        string plain = Curl(guest, $"{ViaProxy} http://web.test/");
        Assert.True(plain == Hello, plain + dante.Log);
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} https://web.test/"));
        Assert.Contains($"{world.Host.Address}.80", dante.Log);
        Assert.Contains($"{world.Host.Address}.443", dante.Log);
        Assert.DoesNotContain("web.test", dante.Log);
    }

    /// <summary>
    /// SIGHUP reloads at once: the settings are rewritten with the same size and time, which
    /// the file watcher cannot see, so only the signal can apply them. Then a plain rewrite is
    /// found by the watcher. Each time the next request goes to the new upstream.
    /// </summary>
    [RootFact]
    public void SighupAndTheFileWatcherEachMoveTheNextRequestToTheNewUpstream()
    {
        var first = StartSquid();
        var second = StartSquid();
        string Upstream(Squid squid) => Manual($"http://alice:{Password}@127.0.0.1:{squid.Port}", $"http://alice:{Password}@127.0.0.1:{squid.Port}");
        // The command ignores SIGHUP, which `usernet run` passes on to it.
        WriteSettings(Upstream(first));
        var guest = Own(GuestSession.StartRunning(["--settings", SettingsPath, "--log-level", "info"], "sh", "-c", "trap '' HUP; exec sleep 600"));
        const string Request = "GET http://web.test/ alice";
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} http://web.test/"));
        Assert.Contains(Request, first.AccessLog);

        // The new file gets the old one's time before it replaces it, so that the watcher never
        // sees a change: only the signal can have applied it (and the log says which did).
        var stamp = File.GetLastWriteTimeUtc(SettingsPath);
        long size = new FileInfo(SettingsPath).Length;
        string replacement = SettingsPath + ".hup";
        WriteSettings(Upstream(second), replacement);
        File.SetLastWriteTimeUtc(replacement, stamp);
        Assert.Equal(size, new FileInfo(replacement).Length);
        File.Move(replacement, SettingsPath, overwrite: true);
        Usernet.Platform.Interop.Libc.Kill(guest.UsernetPid, Usernet.Platform.Interop.Libc.SIGHUP);
        Assert.True(Wait.Until(() => guest.Stats().GetProperty("proxy").GetProperty("reloads").GetInt64() == 1, 10));
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} http://web.test/"));
        Assert.Contains(Request, second.AccessLog);
        Assert.Contains("settings reloaded (SIGHUP)", guest.Stderr);

        WriteSettings(Upstream(first));
        Assert.True(Wait.Until(() => guest.Stats().GetProperty("proxy").GetProperty("reloads").GetInt64() == 2, 10));
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} http://web.test/"));
        Assert.Equal(2, Occurrences(first.AccessLog, Request));
        Assert.Equal(1, Occurrences(second.AccessLog, Request));
        Assert.Contains("settings reloaded (the settings file changed)", guest.Stderr);
    }

    private static int Occurrences(string text, string what) => text.Split(what).Length - 1;
}
