using System.Net;
using System.Net.Sockets;
using Usernet.Services.Dns;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dns;

public sealed class HostNameResolverTests
{
    /// <summary>A getaddrinfo that knows a few names, and fails like glibc's for the rest.</summary>
    private static HostNameResolver Resolver(Dictionary<string, string[]> names, List<(string, AddressFamily)>? calls = null) =>
        new((name, family, _) =>
        {
            calls?.Add((name, family));
            if (name == "broken.test")
            {
                throw new SocketException((int)SocketError.TryAgain);
            }
            var found = names.TryGetValue(name, out var list)
                ? list.Select(IPAddress.Parse).Where(a => a.AddressFamily == family).ToArray()
                : [];
            // glibc reports a name with no address of the family as EAI_NONAME, like no name at all.
            return found.Length > 0 ? Task.FromResult(found) : throw new SocketException((int)SocketError.HostNotFound);
        });

    private static readonly Dictionary<string, string[]> Names = new()
    {
        ["dual.test"] = ["10.0.0.1", "10.0.0.1", "fd00::1"],
        ["v4.test"] = ["10.0.0.2"],
    };

    [Fact]
    public async Task AddressesOfTheFamilyAreFoundOnceEach()
    {
        var result = await Resolver(Names).ResolveAsync("dual.test", DnsType.A, TestContext.Current.CancellationToken);
        Assert.Equal(HostLookupStatus.Found, result.Status);
        Assert.Equal([IpAddress.Parse("10.0.0.1")], result.Addresses);
        var v6 = await Resolver(Names).ResolveAsync("dual.test", DnsType.Aaaa, TestContext.Current.CancellationToken);
        Assert.Equal([IpAddress.Parse("fd00::1")], v6.Addresses);
    }

    [Fact]
    public async Task ANameWithOnlyTheOtherFamilyIsNoDataNotNoName()
    {
        var calls = new List<(string, AddressFamily)>();
        var result = await Resolver(Names, calls).ResolveAsync("v4.test", DnsType.Aaaa, TestContext.Current.CancellationToken);
        Assert.Equal(HostLookupStatus.NoData, result.Status);
        Assert.Equal([("v4.test", AddressFamily.InterNetworkV6), ("v4.test", AddressFamily.InterNetwork)], calls);
    }

    [Fact]
    public async Task AnUnknownNameIsNoNameAndAFailureIsFailed()
    {
        Assert.Equal(HostLookupStatus.NoName, (await Resolver(Names).ResolveAsync("none.test", DnsType.A, TestContext.Current.CancellationToken)).Status);
        Assert.Equal(HostLookupStatus.Failed, (await Resolver(Names).ResolveAsync("broken.test", DnsType.A, TestContext.Current.CancellationToken)).Status);
    }
}
