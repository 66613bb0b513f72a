using Usernet.Services.Proxy;

namespace Usernet.Tests.Services.Proxy;

public sealed class ProxyTargetTests
{
    [Theory]
    [InlineData("example.com", 80, "example.com:80")]
    [InlineData("example.com:8080", 80, "example.com:8080")]
    [InlineData("example.com.:8080", 80, "example.com.:8080")]
    [InlineData("example.com:080", 0, "example.com:80")]
    [InlineData("[::1]", 443, "[::1]:443")]
    [InlineData("[fd00::1]:8443", 0, "[fd00::1]:8443")]
    [InlineData("10.0.0.1:81", 0, "10.0.0.1:81")]
    public void ReadsAnAuthority(string authority, int defaultPort, string expected)
    {
        Assert.True(ProxyTarget.TryParseAuthority(authority, defaultPort, out var target));
        Assert.Equal(expected, target.Authority);
    }

    [Theory]
    [InlineData("example.com", 0)]
    [InlineData("example.com:", 80)]
    [InlineData("example.com:0", 80)]
    [InlineData("example.com:65536", 80)]
    [InlineData("example.com:+80", 80)]
    [InlineData("example.com: 80", 80)]
    [InlineData(":80", 80)]
    [InlineData("user@example.com:80", 80)]
    [InlineData("[::1]]:80", 80)]
    // Each of these was accepted before: "::1" as host ":" and port 1, the rest with the
    // brackets trimmed or kept in the host, and a name that is not ASCII.
    [InlineData("::1", 80)]
    [InlineData("[example.com]:80", 80)]
    [InlineData("example.com]:80", 80)]
    [InlineData("bücher.example", 80)]
    public void RefusesWhatIsNoAuthority(string authority, int defaultPort) =>
        Assert.False(ProxyTarget.TryParseAuthority(authority, defaultPort, out _));
}
