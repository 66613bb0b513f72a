using System.Net;
using Usernet.Platform;
using Usernet.Services.Dns;
using Usernet.Services.Proxy;
using Usernet.Tests.Services.Dns;
using Usernet.Wire;

namespace Usernet.Tests.Services.Proxy;

public sealed class GatewayDnsClientTests
{
    [Fact]
    public async Task ConcurrentRequestsForOneNameShareOneLookupBeyondTheResolversWaiterLimit()
    {
        // The resolver lets two waiters join a lookup; ten tunnels to one host ask at once.
        var dns = new DnsResolverHarness(options: new DnsResolverOptions { HostResolver = true, MaxWaitersPerLookup = 2 });
        using var loop = new EventLoop();
        var thread = new Thread(loop.Run) { IsBackground = true };
        thread.Start();
        try
        {
            var client = new GatewayDnsClient(loop, dns.Resolver, ipv4: true, ipv6: false);
            var answers = Enumerable.Range(0, 10).Select(_ => client.ResolveAsync("App.Corp.Test", CancellationToken.None)).ToList();
            var lookups = new TaskCompletionSource<int>();
            // Posted after the queries, so it runs after them on the loop.
            loop.Post(now =>
            {
                lookups.SetResult(dns.Source.Host.Count);
                dns.Resolver.CompleteHost(dns.Source.Host[0], new HostLookupResult(HostLookupStatus.Found, [IpAddress.Parse("10.20.30.40")]), now);
            });
            Assert.Equal(1, await lookups.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
            foreach (var answer in answers)
            {
                Assert.Equal([IPAddress.Parse("10.20.30.40")], await answer.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
            }
            Assert.Equal(0, dns.Counters.DroppedWaiters);

            // Once answered, the name is asked again (from the cache), not joined to the old lookup.
            Assert.Equal([IPAddress.Parse("10.20.30.40")], await client.ResolveAsync("app.corp.test", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
            Assert.Equal(1, dns.Counters.AnsweredFromCache);
        }
        finally
        {
            loop.Stop();
            thread.Join(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task ACancelledRequestLeavesTheSharedLookupToTheOthers()
    {
        var dns = new DnsResolverHarness();
        using var loop = new EventLoop();
        var thread = new Thread(loop.Run) { IsBackground = true };
        thread.Start();
        try
        {
            var client = new GatewayDnsClient(loop, dns.Resolver, ipv4: true, ipv6: false);
            using var cancel = new CancellationTokenSource();
            var cancelled = client.ResolveAsync("app.corp.test", cancel.Token);
            var waiting = client.ResolveAsync("app.corp.test", CancellationToken.None);
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
            loop.Post(now => dns.Resolver.CompleteHost(dns.Source.Host[0], new HostLookupResult(HostLookupStatus.Found, [IpAddress.Parse("10.0.0.7")]), now));
            Assert.Equal([IPAddress.Parse("10.0.0.7")], await waiting.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        }
        finally
        {
            loop.Stop();
            thread.Join(TimeSpan.FromSeconds(10));
        }
    }
}
