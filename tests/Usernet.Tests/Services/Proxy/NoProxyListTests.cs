using System.Net;
using Usernet.Services.Proxy;

namespace Usernet.Tests.Services.Proxy;

public sealed class NoProxyListTests
{
    [Theory]
    [InlineData("example.com", "example.com", 80, true)]
    [InlineData("example.com", "www.example.com", 80, true)]
    [InlineData("example.com", "notexample.com", 80, false)]
    [InlineData(".example.com", "example.com", 80, false)]
    [InlineData(".example.com", "a.example.com", 80, true)]
    [InlineData("*.example.com", "example.com", 80, false)]
    [InlineData("*.example.com", "a.b.example.com", 443, true)]
    [InlineData("EXAMPLE.com", "www.Example.COM.", 80, true)]
    [InlineData("10.1.2.3", "10.1.2.3", 80, true)]
    [InlineData("10.1.2.3", "10.1.2.4", 80, false)]
    [InlineData("10.0.0.0/8", "10.200.1.1", 80, true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", 80, false)]
    [InlineData("198.18.0.0/15", "198.19.255.1", 80, true)]
    [InlineData("fd00::/8", "fd12::1", 80, true)]
    [InlineData("[fd00::1]:8080", "fd00::1", 8080, true)]
    [InlineData("example.com:8080", "example.com", 8080, true)]
    [InlineData("example.com:8080", "example.com", 80, false)]
    [InlineData("10.0.0.0/8", "ten.example", 80, false)]
    [InlineData("fd00::1", "fd00::1", 443, true)]
    [InlineData("[fd00::1]", "fd00::1", 443, true)]
    [InlineData("[fd00::1", "fd00::1", 443, false)]
    [InlineData("fd00::1]:443", "fd00::1", 443, false)]
    [InlineData("example.com:+443", "example.com", 443, false)]
    [InlineData("10.0.0.0/8:443", "10.1.2.3", 443, false)]
    [InlineData("10.1", "10.0.0.1", 80, false)]
    [InlineData("*", "anything", 1, true)]
    [InlineData("", "anything", 1, false)]
    public void EntriesMatchAsGoReadsNoProxy(string entry, string host, int port, bool matches) =>
        Assert.Equal(matches, new NoProxyList([entry]).Matches(host, port));

    [Fact]
    public void AnAddressRuleMatchesANameWhoseAddressIsKnown()
    {
        var list = new NoProxyList(["198.18.0.0/15"]);
        Assert.True(list.Matches("web.test", 443, IPAddress.Parse("198.18.3.2")));
        Assert.False(list.Matches("web.test", 443, IPAddress.Parse("203.0.113.1")));
    }
}
