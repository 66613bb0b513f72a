using System.Diagnostics;
using Usernet.Services.Proxy;
using Usernet.Services.Proxy.Pac;

namespace Usernet.Tests.Services.Proxy;

public sealed class PacScriptTests
{
    /// <summary>A fixed clock (Wednesday 2025-06-11 14:30:15 UTC), names from a table, and UTC as local time.</summary>
    private sealed class FixedHost : IPacHost
    {
        public DateTimeOffset Now { get; set; } = new(2025, 6, 11, 14, 30, 15, TimeSpan.Zero);

        public TimeZoneInfo TimeZone => TimeZoneInfo.Utc;

        public Task<string?> DnsResolveAsync(string host) => Task.FromResult<string?>(host switch
        {
            "web.corp.test" => "10.1.2.3",
            "web.test" => "198.18.0.2",
            _ => null,
        });

        public string MyIpAddress() => "192.0.2.7";
    }

    private static async Task<string> Evaluate(string expression, FixedHost? host = null)
    {
        using var script = PacScript.Compile($"function FindProxyForURL(url, host) {{ return String({expression}); }}", host ?? new FixedHost());
        return await script.FindProxyAsync("http://x/", "x");
    }

    [Theory]
    [InlineData("isPlainHostName('www')", "true")]
    [InlineData("isPlainHostName('www.test')", "false")]
    [InlineData("dnsDomainIs('www.corp.test', '.corp.test')", "true")]
    [InlineData("dnsDomainIs('www.other.test', '.corp.test')", "false")]
    [InlineData("localHostOrDomainIs('www', 'www.corp.test')", "true")]
    [InlineData("localHostOrDomainIs('www.corp.test', 'www.corp.test')", "true")]
    [InlineData("localHostOrDomainIs('www.other.test', 'www.corp.test')", "false")]
    [InlineData("isResolvable('web.test')", "true")]
    [InlineData("isResolvable('nowhere.test')", "false")]
    [InlineData("dnsResolve('web.corp.test')", "10.1.2.3")]
    [InlineData("dnsResolve('nowhere.test')", "null")]
    [InlineData("isInNet('web.corp.test', '10.0.0.0', '255.0.0.0')", "true")]
    [InlineData("isInNet('198.18.0.2', '198.18.0.0', '255.254.0.0')", "true")]
    [InlineData("isInNet('198.20.0.2', '198.18.0.0', '255.254.0.0')", "false")]
    [InlineData("isInNet('nowhere.test', '10.0.0.0', '255.0.0.0')", "false")]
    [InlineData("myIpAddress()", "192.0.2.7")]
    [InlineData("dnsDomainLevels('www')", "0")]
    [InlineData("dnsDomainLevels('www.corp.test')", "2")]
    [InlineData("shExpMatch('http://www.corp.test/a', '*.corp.test/*')", "true")]
    [InlineData("shExpMatch('a.blocked.test', '*.blocked.test')", "true")]
    [InlineData("shExpMatch('blockedxtest', 'blocked.test')", "false")]
    [InlineData("shExpMatch('ab', 'a?')", "true")]
    [InlineData("shExpMatch('a+b', 'a+b')", "true")]
    [InlineData("convert_addr('10.1.2.3')", "167838211")]
    [InlineData("convert_addr('255.255.255.255')", "4294967295")]
    [InlineData("weekdayRange('WED')", "true")]
    [InlineData("weekdayRange('MON', 'FRI')", "true")]
    [InlineData("weekdayRange('SAT', 'SUN', 'GMT')", "false")]
    [InlineData("weekdayRange('FRI', 'MON')", "false")]
    [InlineData("weekdayRange('BAD')", "false")]
    [InlineData("dateRange(11)", "true")]
    [InlineData("dateRange('JUN')", "true")]
    [InlineData("dateRange(2025)", "true")]
    [InlineData("dateRange(1, 15)", "true")]
    [InlineData("dateRange('JAN', 'MAR')", "false")]
    [InlineData("dateRange('NOV', 'JUL')", "true")]
    [InlineData("dateRange(1, 'JUN', 10, 'JUN')", "false")]
    [InlineData("dateRange(1, 'JUN', 2025, 15, 'AUG', 2025)", "true")]
    [InlineData("dateRange(2026, 2027, 'GMT')", "false")]
    [InlineData("timeRange(14)", "true")]
    [InlineData("timeRange(9, 17)", "true")]
    [InlineData("timeRange(22, 6)", "false")]
    [InlineData("timeRange(14, 30, 14, 31, 'GMT')", "true")]
    [InlineData("timeRange(14, 31, 15, 0)", "false")]
    [InlineData("timeRange(14, 30, 15, 14, 30, 16)", "true")]
    public async Task HelpersFollowThePacSpecification(string expression, string expected) =>
        Assert.Equal(expected, await Evaluate(expression));

    [Fact]
    public async Task TheClockIsTheHosts()
    {
        var host = new FixedHost { Now = new DateTimeOffset(2025, 6, 14, 3, 0, 0, TimeSpan.Zero) };
        Assert.Equal("true", await Evaluate("weekdayRange('SAT') && timeRange(22, 6)", host));
    }

    [Fact]
    public void AScriptWithoutFindProxyForUrlIsRefused()
    {
        var e = Assert.Throws<PacException>(() => PacScript.Compile("var x = 1;", new FixedHost()));
        Assert.Contains("FindProxyForURL", e.Message);
    }

    [Fact]
    public void AScriptThatDoesNotParseIsRefused() =>
        Assert.Throws<PacException>(() => PacScript.Compile("function FindProxyForURL(url, host) {", new FixedHost()));

    [Fact]
    public async Task AScriptThatLoopsForeverFailsInsteadOfHanging()
    {
        using var script = PacScript.Compile("function FindProxyForURL(url, host) { while (true) {} }", new FixedHost());
        var e = await Assert.ThrowsAsync<PacException>(() => script.FindProxyAsync("http://a/", "a"));
        Assert.Contains("FindProxyForURL failed: it ran", e.Message);
    }

    [Fact]
    public async Task TheScriptSeesNothingOfDotNet()
    {
        using var script = PacScript.Compile("function FindProxyForURL(url, host) { return typeof System + ' ' + typeof importNamespace; }", new FixedHost());
        Assert.Equal("undefined undefined", await script.FindProxyAsync("http://a/", "a"));
    }

    /// <summary>Names resolve at once, but slow.test never does: its lookup is still running when the evaluation's time is up.</summary>
    private sealed class SlowHost : IPacHost
    {
        private readonly TaskCompletionSource<string?> _never = new();

        public int Lookups;

        public DateTimeOffset Now => DateTimeOffset.UnixEpoch;

        public TimeZoneInfo TimeZone => TimeZoneInfo.Utc;

        public Task<string?> DnsResolveAsync(string host)
        {
            Interlocked.Increment(ref Lookups);
            return host == "slow.test" ? _never.Task : Task.FromResult<string?>("198.18.0.2");
        }

        public string MyIpAddress() => "192.0.2.7";
    }

    private const string LoopOrSlowScript = """
        function FindProxyForURL(url, host) {
            if (host == 'loop.test') { while (true) {} }
            if (host == 'slow.test' || host == 'fast.test') { dnsResolve(host); }
            return 'DIRECT';
        }
        """;

    [Fact]
    public async Task AHostThatLoopsOrResolvesSlowlyDoesNotHoldUpAnother()
    {
        var host = new SlowHost();
        using var script = PacScript.Compile(LoopOrSlowScript, host);
        // A guest asks for the two bad hosts again and again...
        var stuck = new List<Task<string>>();
        for (int i = 0; i < 4; i++)
        {
            stuck.Add(script.FindProxyAsync("http://loop.test/", "loop.test"));
            stuck.Add(script.FindProxyAsync("http://slow.test/", "slow.test"));
        }

        // ...and a request for another host is answered at once all the same.
        var watch = Stopwatch.StartNew();
        Assert.Equal("DIRECT", await script.FindProxyAsync("http://fast.test/", "fast.test").WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"fast.test waited {watch.Elapsed.TotalSeconds:0.0} s behind the others");
        Assert.Equal("DIRECT", await script.FindProxyAsync("http://fast.test/", "fast.test").WaitAsync(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task AnEvaluationWaitingForASlowLookupEndsWithinItsTime()
    {
        var host = new SlowHost();
        using var script = PacScript.Compile(LoopOrSlowScript, host);

        // dnsResolve gives up when the call's time is up, as for a name that does not
        // resolve: null, and the script carries on to its answer (or is stopped, if it goes on).
        var watch = Stopwatch.StartNew();
        Assert.Equal("DIRECT", await script.FindProxyAsync("http://slow.test/", "slow.test").WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.True(watch.Elapsed < PacScript.CallTimeout + TimeSpan.FromSeconds(2), $"took {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.True(watch.Elapsed >= PacScript.CallTimeout - TimeSpan.FromMilliseconds(100), $"took only {watch.Elapsed.TotalSeconds:0.0} s");
        // The next evaluation waits on the same lookup rather than starting another.
        await script.FindProxyAsync("http://slow.test/", "slow.test").WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(1, host.Lookups);
    }

    [Fact]
    public async Task RequestsForOneHostAreEvaluatedOneAtATimeAndAllAnswered()
    {
        var host = new SlowHost();
        using var script = PacScript.Compile("function FindProxyForURL(url, host) { return 'PROXY ' + host + ':' + url.length; }", host);

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            script.FindProxyAsync($"http://a.test/{new string('x', i)}", i % 2 == 0 ? "a.test" : "b.test")));

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"PROXY {(i % 2 == 0 ? "a.test" : "b.test")}:{"http://a.test/".Length + i}"), answers);
    }

    [Fact]
    public async Task LookupsAreKeptAcrossEvaluations()
    {
        var host = new SlowHost();
        using var script = PacScript.Compile("function FindProxyForURL(url, host) { return isResolvable(host) && isInNet(host, '198.18.0.0', '255.254.0.0') ? 'DIRECT' : 'PROXY p.test:1'; }", host);

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal("DIRECT", await script.FindProxyAsync("http://web.test/", "web.test"));
        }

        Assert.Equal(1, host.Lookups);
        Assert.Equal(1, script.Lookups.Lookups);
    }

    [Theory]
    [InlineData("DIRECT", "DIRECT")]
    [InlineData("PROXY squid.test:3128; DIRECT", "http://squid.test:3128|DIRECT")]
    [InlineData("SOCKS5 10.0.0.1:1080", "socks5://10.0.0.1:1080")]
    [InlineData("SOCKS 10.0.0.1:1080", "socks5://10.0.0.1:1080")]
    [InlineData("HTTPS secure.test:443", "https://secure.test:443")]
    [InlineData("PROXY reject.docker.internal:80", "blocked")]
    [InlineData("PROXY reject.docker.internal:ANY", "blocked")]
    [InlineData("PROXY bad host; DIRECT", "DIRECT")]
    [InlineData("  proxy  a.test:1 ;;", "http://a.test:1")]
    public void PacResultsParse(string result, string expected)
    {
        var routes = ProxyRoute.ParsePacResult(result, out _);
        Assert.NotNull(routes);
        Assert.Equal(expected, string.Join("|", routes.Select(r => r.ToString())));
    }

    [Theory]
    [InlineData("")]
    [InlineData("NONSENSE")]
    [InlineData("PROXY")]
    public void UnusablePacResultsAreNull(string result)
    {
        Assert.Null(ProxyRoute.ParsePacResult(result, out string? error));
        Assert.NotNull(error);
    }
}
