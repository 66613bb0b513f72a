using System.Diagnostics;
using Usernet.Services.Proxy.Pac;

namespace Usernet.Tests.Services.Proxy;

/// <summary>A PAC script's host lookups, kept and shared, with explicit time.</summary>
public sealed class PacLookupsTests
{
    private static readonly Instant Start = Instant.FromMilliseconds(1_000);
    private static readonly TimeSpan NoWait = TimeSpan.Zero;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    /// <summary>Answers every name at once (198.18.0.2, none for names starting with "none"), or through <see cref="Answer"/>; counts what is asked.</summary>
    private sealed class CountingHost : IPacHost
    {
        public List<string> Asked { get; } = new();

        public Func<string, Task<string?>> Answer { get; set; } = name => Task.FromResult<string?>(name.StartsWith("none", StringComparison.Ordinal) ? null : "198.18.0.2");

        public int AddressReads { get; private set; }

        public DateTimeOffset Now => DateTimeOffset.UnixEpoch;

        public TimeZoneInfo TimeZone => TimeZoneInfo.Utc;

        public Task<string?> DnsResolveAsync(string host)
        {
            lock (Asked)
            {
                Asked.Add(host);
            }
            return Answer(host);
        }

        public string MyIpAddress()
        {
            AddressReads++;
            return "192.0.2.7";
        }
    }

    private readonly CountingHost _host = new();
    private Instant _now = Start;
    private readonly PacLookups _lookups;

    public PacLookupsTests() => _lookups = new PacLookups(_host, () => _now);

    [Fact]
    public void ANameIsLookedUpOnceWhileItsAnswerLasts()
    {
        Assert.Equal("198.18.0.2", _lookups.DnsResolve("web.test", Wait));
        _now += TimeSpan.FromSeconds(30);
        Assert.Equal("198.18.0.2", _lookups.DnsResolve("WEB.test", Wait));
        _now = Start + (PacLookups.AnswerLifetime - TimeSpan.FromTicks(1));
        Assert.Equal("198.18.0.2", _lookups.DnsResolve("web.test", Wait));
        Assert.Equal(["web.test"], _host.Asked);

        _now = Start + PacLookups.AnswerLifetime;
        Assert.Equal("198.18.0.2", _lookups.DnsResolve("web.test", Wait));
        Assert.Equal(2, _host.Asked.Count);
        Assert.Equal(2, _lookups.Lookups);
    }

    [Fact]
    public void AFailureIsKeptForLessTime()
    {
        Assert.Null(_lookups.DnsResolve("none.test", Wait));
        _now += PacLookups.FailureLifetime - TimeSpan.FromTicks(1);
        Assert.Null(_lookups.DnsResolve("none.test", Wait));
        Assert.Single(_host.Asked);

        _now += TimeSpan.FromTicks(1);
        Assert.Null(_lookups.DnsResolve("none.test", Wait));
        Assert.Equal(2, _host.Asked.Count);
    }

    [Fact]
    public void ALookupThatThrowsIsAFailure()
    {
        _host.Answer = _ => throw new InvalidOperationException("the resolver broke");
        Assert.Null(_lookups.DnsResolve("web.test", Wait));
        Assert.Null(_lookups.DnsResolve("web.test", Wait));
        Assert.Single(_host.Asked);
    }

    [Fact]
    public void EvaluationsAskingForASlowNameShareOneLookupAndWaitOnlyTheirTime()
    {
        var answer = new TaskCompletionSource<string?>();
        _host.Answer = _ => answer.Task;

        var watch = Stopwatch.StartNew();
        Assert.Null(_lookups.DnsResolve("slow.test", TimeSpan.FromMilliseconds(100)));
        Assert.Null(_lookups.DnsResolve("slow.test", NoWait));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"waited {watch.Elapsed}");
        Assert.Single(_host.Asked);

        answer.SetResult("198.18.0.9");
        Assert.Equal("198.18.0.9", _lookups.DnsResolve("slow.test", Wait));
        Assert.Single(_host.Asked);
    }

    [Fact]
    public void AnAnswerThatCameLateLastsFromWhenItCame()
    {
        var answer = new TaskCompletionSource<string?>();
        _host.Answer = _ => answer.Task;
        Assert.Null(_lookups.DnsResolve("slow.test", NoWait));

        _now += TimeSpan.FromSeconds(50);
        answer.SetResult("198.18.0.9");
        var came = _now;

        _now = came + (PacLookups.AnswerLifetime - TimeSpan.FromTicks(1));
        Assert.Equal("198.18.0.9", _lookups.DnsResolve("slow.test", Wait));
        Assert.Single(_host.Asked);
        _now = came + PacLookups.AnswerLifetime;
        _lookups.DnsResolve("slow.test", NoWait);
        Assert.Equal(2, _host.Asked.Count);
    }

    [Fact]
    public void TheLeastRecentlyUsedNamesGoFirst()
    {
        for (int i = 0; i < PacLookups.MaxNames; i++)
        {
            _lookups.DnsResolve($"host{i}.test", Wait);
        }
        // host0 is used again, so host1 is the oldest when one more comes.
        _lookups.DnsResolve("host0.test", Wait);
        _lookups.DnsResolve("one-more.test", Wait);

        Assert.Equal(PacLookups.MaxNames, _lookups.Count);
        int asked = _host.Asked.Count;
        _lookups.DnsResolve("host0.test", Wait);
        Assert.Equal(asked, _host.Asked.Count);
        _lookups.DnsResolve("host1.test", Wait);
        Assert.Equal(asked + 1, _host.Asked.Count);
    }

    [Fact]
    public void TheHostsAddressIsReadOncePerLifetime()
    {
        Assert.Equal("192.0.2.7", _lookups.MyIpAddress());
        _now += PacLookups.AddressLifetime - TimeSpan.FromTicks(1);
        Assert.Equal("192.0.2.7", _lookups.MyIpAddress());
        Assert.Equal(1, _host.AddressReads);

        _now += TimeSpan.FromTicks(1);
        _lookups.MyIpAddress();
        Assert.Equal(2, _host.AddressReads);
    }
}
