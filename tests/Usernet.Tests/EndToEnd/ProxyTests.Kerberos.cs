using Usernet.Tests.EndToEnd.Fixtures;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// Negotiate with real Kerberos: an MIT KDC of the test's own (<see cref="Kdc"/>), squid taking
/// Negotiate alone through negotiate_kerberos_auth and the KDC's keytab, and Usernet with the
/// user's ticket (kinit) in a credential cache of the test's. The proxy's name,
/// proxy.usernet.test, is 127.0.0.1 in the private hosts file Usernet runs with; krb5.conf names
/// the KDC by address, so nothing asks a resolver of the machine.
/// </summary>
public sealed partial class ProxyTests
{
    private const string KerberosProxyHost = "proxy.usernet.test";

    private sealed record KerberosUpstream(Kdc Kdc, Squid Squid, IsolatedResolver Resolver)
    {
        public string Url => $"http://{KerberosProxyHost}:{Squid.Port}";
    }

    private KerberosUpstream StartKerberosUpstream()
    {
        var kdc = Own(Kdc.Start(KerberosProxyHost));
        var squid = Own(Squid.StartNegotiate(world.Nameserver, kdc, KerberosProxyHost));
        var resolver = Own(new IsolatedResolver($"127.0.0.1 {KerberosProxyHost}\n", world.Nameserver));
        return new KerberosUpstream(kdc, squid, resolver);
    }

    /// <summary>Usernet with the KDC's krb5.conf and credential cache, and <paramref name="url"/> (default: squid by name) as both upstreams.</summary>
    private GuestSession StartKerberosGuest(KerberosUpstream upstream, string? url = null)
    {
        WriteKerberosSettings(url ?? upstream.Url);
        string[] environment = ["env", .. upstream.Kdc.Environment.Select(e => $"{e.Key}={e.Value}")];
        return Own(GuestSession.StartWrapped([.. environment, .. upstream.Resolver.Wrapper],
            upstream.Resolver.Settings("--settings", SettingsPath, "--log-level", "info")));
    }

    /// <summary>Names go through the private hosts file and then the test nameserver (dns.resolvConf, set by the resolver's flags).</summary>
    private void WriteKerberosSettings(string url)
    {
        File.WriteAllText(SettingsPath + ".new", $"{{ {Manual(url, url)} }}");
        File.Move(SettingsPath + ".new", SettingsPath, overwrite: true);
    }

    /// <summary>
    /// Usernet with <paramref name="url"/> as both upstreams and an empty krb5.conf of the
    /// test's (the machine's is never read), and <paramref name="environment"/> (NAME=VALUE).
    /// </summary>
    private GuestSession StartGuestWithoutKerberos(string url, params string[] environment)
    {
        WriteSettings(Manual(url, url));
        string krb5Config = Path.Combine(_settingsDirectory, "krb5.conf");
        File.WriteAllText(krb5Config, "");
        return Own(GuestSession.StartWrapped(["env", $"KRB5_CONFIG={krb5Config}", .. environment], "--settings", SettingsPath, "--log-level", "info"));
    }

    private static void AssertNoSecrets(Kdc kdc, params string[] texts)
    {
        foreach (string text in texts)
        {
            Assert.DoesNotContain(kdc.Password, text);
            // Every Negotiate token (a GSSAPI InitialContextToken, DER 0x60 0x82) starts so in base64.
            Assert.DoesNotContain("YII", text);
        }
    }

    /// <summary>With the ticket in a file (Debian's default cache) or in the kernel's keyring (RHEL's KEYRING:), which Usernet reads under its seccomp filter.</summary>
    [RootTheory]
    [InlineData("FILE")]
    [InlineData("KEYRING")]
    public void KerberosGetConnectAndPostThroughSquidEachNameThePrincipal(string cache)
    {
        var upstream = StartKerberosUpstream();
        if (cache == "KEYRING")
        {
            upstream.Kdc.UseKeyring();
        }
        ProcessRunner.Check(upstream.Kdc.Kinit());
        var guest = StartKerberosGuest(upstream);
        string get = Curl(guest, $"{ViaProxy} http://web.test/");
        Assert.True(get == Hello, get + guest.Stderr + upstream.Squid.AccessLog + File.ReadAllText(Path.Combine(upstream.Squid.Directory, "cache.log")) + upstream.Kdc.Log);
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} https://web.test/"));
        Assert.Equal("got 11\n", Curl(guest, $"{ViaProxy} -d 'hello=world' http://web.test/post"));
        string principal = upstream.Kdc.Principal;
        string log = upstream.Squid.AccessLogWith($"CONNECT web.test:443 {principal}");
        Assert.Contains($"GET http://web.test/ {principal}", log);
        Assert.Contains($"CONNECT web.test:443 {principal}", log);
        Assert.Contains($"POST http://web.test/post {principal}", log);
        Assert.NotEmpty(upstream.Kdc.ServiceTicketsIssued(KerberosProxyHost));
        AssertNoSecrets(upstream.Kdc, guest.Stderr, get);
    }

    /// <summary>
    /// No ticket, a wrong service principal (the proxy named by its address, which the KDC has no
    /// HTTP/ principal for) and an expired ticket: each request gets a 502 saying which, Usernet
    /// goes on, and a new ticket in the same cache (kdestroy, kinit) works at once.
    /// </summary>
    [RootFact]
    public void KerberosFailuresSayWhichAndANewTicketWorksWithoutARestart()
    {
        var upstream = StartKerberosUpstream();
        var guest = StartKerberosGuest(upstream);
        string none = Curl(guest, $"{ViaProxy} -w '%{{http_code}}' http://web.test/");
        Assert.Contains("502", none);
        Assert.True(none.Contains("no Kerberos ticket", StringComparison.Ordinal), none + guest.Stderr);

        ProcessRunner.Check(upstream.Kdc.Kinit());
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} http://web.test/"));
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} https://web.test/"));

        ProcessRunner.Check(upstream.Kdc.Kdestroy());
        // A failed CONNECT's body is not shown: curl -v shows the X-Usernet-Error field.
        string destroyed = Curl(guest, $"{ViaProxy} -v https://web.test/");
        Assert.Contains("502", destroyed);
        Assert.Contains("no Kerberos ticket", destroyed);

        // A ticket that lives two seconds, then is expired when the next request comes.
        ProcessRunner.Check(upstream.Kdc.Kinit(lifetime: "2s"));
        Thread.Sleep(TimeSpan.FromSeconds(3));
        string expired = Curl(guest, $"{ViaProxy} -w '%{{http_code}}' http://web.test/");
        Assert.Contains("502", expired);
        Assert.Contains("expired", expired);

        ProcessRunner.Check(upstream.Kdc.Kinit());
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} http://web.test/"));

        var byAddress = StartKerberosGuest(upstream, $"http://127.0.0.1:{upstream.Squid.Port}");
        string wrongName = Curl(byAddress, $"{ViaProxy} -w '%{{http_code}}' http://web.test/");
        Assert.Contains("502", wrongName);
        Assert.Contains("service principal", wrongName);
        Assert.Equal(0, ProcessRunner.Run(TestEnvironment.UsernetBinary, "stats", "--instance", guest.Instance).ExitCode);
        AssertNoSecrets(upstream.Kdc, guest.Stderr, byAddress.Stderr, none, destroyed, expired, wrongName);
    }

    /// <summary>
    /// The proxy's service tickets live three seconds (its principal's maxlife), the user's
    /// ticket an hour: after the first service ticket has expired, the next request gets a new
    /// one from the KDC and goes through, rather than failing or looping on 407.
    /// </summary>
    [RootFact]
    public void KerberosAnExpiredServiceTicketIsRenewedBetweenTwoRequests()
    {
        var upstream = StartKerberosUpstream();
        upstream.Kdc.Admin($"modprinc -maxlife \"3 seconds\" HTTP/{KerberosProxyHost}");
        ProcessRunner.Check(upstream.Kdc.Kinit());
        var guest = StartKerberosGuest(upstream);
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} http://web.test/"));
        Assert.Single(upstream.Kdc.ServiceTicketsIssued(KerberosProxyHost));
        Thread.Sleep(TimeSpan.FromSeconds(4));
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} http://web.test/"));
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} https://web.test/"));
        Assert.InRange(upstream.Kdc.ServiceTicketsIssued(KerberosProxyHost).Length, 2, 3);
        string log = upstream.Squid.AccessLog;
        Assert.Equal(2, log.Split('\n').Count(l => l.Contains($"GET http://web.test/ {upstream.Kdc.Principal}", StringComparison.Ordinal)));
        // The first request met the one 407 that taught Usernet to authenticate pre-emptively.
        Assert.InRange(log.Split('\n').Count(l => l.Contains("/407 ", StringComparison.Ordinal) && l.Contains("web.test", StringComparison.Ordinal)), 0, 1);
    }

    /// <summary>
    /// Once squid has asked for Negotiate, each new connection's first request carries the
    /// token: a 100 MiB POST and a chunked POST on plain HTTP, which cannot be sent twice, go
    /// through on their only trip, and nginx keeps exactly what the guest sent.
    /// </summary>
    [RootFact]
    public void KerberosPreemptiveAuthenticationCarriesLargeAndChunkedBodies()
    {
        var upstream = StartKerberosUpstream();
        ProcessRunner.Check(upstream.Kdc.Kinit());
        var guest = StartKerberosGuest(upstream);
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} http://web.test/"));
        string body = Path.Combine(_settingsDirectory, "body");
        ProcessRunner.Check(ProcessRunner.Shell($"head -c 104857600 /dev/urandom > {body}"));
        string expected = Sha256(body);
        foreach (string how in new[] { "", "-H 'Transfer-Encoding: chunked'" })
        {
            string stored = Curl(guest, $"{ViaProxy} {how} --data-binary @{body} http://web.test/upload", seconds: 60).Trim();
            Assert.True(stored.StartsWith(world.Directory, StringComparison.Ordinal), stored + guest.Stderr + upstream.Squid.AccessLog
                + File.ReadAllText(Path.Combine(upstream.Squid.Directory, "cache.log")));
            Assert.Equal(expected, Sha256(stored));
            File.Delete(stored);
        }
        Assert.Equal(2, upstream.Squid.AccessLog.Split('\n').Count(l => l.Contains($"POST http://web.test/upload {upstream.Kdc.Principal}", StringComparison.Ordinal)));
    }

    /// <summary>
    /// NTLM for real: squid offers NTLM alone, its ntlm_auth helper checks the answers with a
    /// standalone Samba's winbindd (a local user in the test's own passdb), and Usernet answers
    /// through .NET's NegotiateAuthentication and the host's gss-ntlmssp, with the user and
    /// password from the proxy URL. Each request is sent again for each leg, on one connection.
    /// </summary>
    [RootFact]
    public void NtlmGetConnectAndPostThroughSquidAndSambaEachNameTheUser()
    {
        var samba = Own(new SambaNtlm());
        var squid = Own(Squid.StartNtlm(world.Nameserver, samba));
        string url = $"http://{SambaNtlm.Domain}%5C{SambaNtlm.User}:{samba.Password}@127.0.0.1:{squid.Port}";
        var guest = StartGuestWithoutKerberos(url);
        string get = Curl(guest, $"{ViaProxy} http://web.test/");
        Assert.True(get == Hello, get + guest.Stderr + squid.AccessLog + samba.Log);
        Assert.Equal(Hello, Curl(guest, $"{ViaProxy} https://web.test/"));
        Assert.Equal("got 11\n", Curl(guest, $"{ViaProxy} -d 'hello=world' http://web.test/post"));
        // Squid writes the domain's backslash doubled.
        string user = $"{SambaNtlm.Domain}\\\\{SambaNtlm.User}";
        string log = squid.AccessLogWith($"CONNECT web.test:443 {user}");
        Assert.Contains($"GET http://web.test/ {user}", log);
        Assert.Contains($"CONNECT web.test:443 {user}", log);
        Assert.Contains($"POST http://web.test/post {user}", log);
        Assert.DoesNotContain(samba.Password, guest.Stderr);
        Assert.DoesNotContain("TlRMTVNT", guest.Stderr);

        // A wrong password: Samba says no, squid starts over, and the guest is told.
        string wrongUrl = $"http://{SambaNtlm.Domain}%5C{SambaNtlm.User}:not-{samba.Password}@127.0.0.1:{squid.Port}";
        var wrong = StartGuestWithoutKerberos(wrongUrl);
        string refused = Curl(wrong, $"{ViaProxy} -w '%{{http_code}}' http://web.test/");
        Assert.Contains("502", refused);
        Assert.Contains("the upstream proxy refused authentication (407; it offers: NTLM)", refused);
        Assert.DoesNotContain(samba.Password, refused + wrong.Stderr);
    }

    private static string Sha256(string path) => ProcessRunner.Check(ProcessRunner.Shell($"sha256sum {path}", TimeSpan.FromSeconds(60))).Split(' ')[0];
}
