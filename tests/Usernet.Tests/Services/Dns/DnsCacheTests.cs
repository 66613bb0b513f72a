using Usernet.Services.Dns;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dns;

public sealed class DnsCacheTests
{
    private static readonly Instant T0 = Instant.FromMilliseconds(10_000);

    private static DnsAnswer Answer(int size = 16, double seconds = 60) =>
        new(DnsResponseCode.NoError, 1, 0, 0, new byte[size], [], DnsAnswerSource.Upstream, T0, T0 + TimeSpan.FromSeconds(seconds));

    [Fact]
    public void AnEntryIsServedUntilItExpires()
    {
        var cache = new DnsCache(10);
        var answer = Answer(seconds: 30);
        cache.Add("a", answer);
        Assert.True(cache.TryGet("a", T0 + TimeSpan.FromSeconds(29.9), out var found));
        Assert.Same(answer, found);
        Assert.False(cache.TryGet("a", T0 + TimeSpan.FromSeconds(30), out _));
        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void TheLeastRecentlyUsedGoesFirst()
    {
        var cache = new DnsCache(2);
        cache.Add("a", Answer());
        cache.Add("b", Answer());
        Assert.True(cache.TryGet("a", T0, out _));
        cache.Add("c", Answer());
        Assert.True(cache.TryGet("a", T0, out _));
        Assert.False(cache.TryGet("b", T0, out _));
        Assert.True(cache.TryGet("c", T0, out _));
        Assert.Equal(1, cache.Evictions);
    }

    [Fact]
    public void BytesAreBoundedToo()
    {
        var cache = new DnsCache(1000, maxBytes: 10_000);
        for (int i = 0; i < 20; i++)
        {
            cache.Add($"k{i}", Answer(size: 1000));
        }
        Assert.True(cache.Bytes <= 10_000);
        Assert.True(cache.Count < 10);
        // One too large for the whole cache is not kept.
        cache.Add("huge", Answer(size: 20_000));
        Assert.False(cache.TryGet("huge", T0, out _));
    }

    [Fact]
    public void ReplacingAKeyAndClearingKeepTheAccounts()
    {
        var cache = new DnsCache(10);
        cache.Add("a", Answer(size: 100));
        long one = cache.Bytes;
        cache.Add("a", Answer(size: 100));
        Assert.Equal(1, cache.Count);
        Assert.Equal(one, cache.Bytes);
        cache.Clear();
        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.Bytes);
        cache.Add("a", Answer());
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void SizeZeroCachesNothing()
    {
        var cache = new DnsCache(0);
        cache.Add("a", Answer());
        Assert.False(cache.TryGet("a", T0, out _));
    }
}
