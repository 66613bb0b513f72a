using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class IpAddressTests
{
    [Fact]
    public void Ipv4IsHeldMapped()
    {
        IpAddress address = Ipv4Address.Parse("198.18.5.1");
        Assert.True(address.IsV4);
        Assert.Equal(Ipv6Address.Parse("::ffff:198.18.5.1").Value, address.Value);
        Assert.Equal(Ipv4Address.Parse("198.18.5.1"), address.V4);
        Assert.Equal("198.18.5.1", address.ToString());
    }

    [Fact]
    public void MappedIpv6TextIsIpv4()
    {
        var address = IpAddress.Parse("::ffff:198.18.5.1");
        Assert.True(address.IsV4);
        Assert.Equal(IpAddress.Parse("198.18.5.1"), address);
    }

    [Theory]
    [InlineData("fdc4:f303:9324::3", "fdc4:f303:9324::3")]
    [InlineData("[fdc4:f303:9324::3]", "fdc4:f303:9324::3")]
    [InlineData("::1", "::1")]
    [InlineData("::", "::")]
    [InlineData("127.0.0.1", "127.0.0.1")]
    public void ParsesAndFormats(string text, string formatted)
    {
        var address = IpAddress.Parse(text);
        Assert.Equal(formatted, address.ToString());
        Assert.Equal(address, IpAddress.Parse(address.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("[198.18.5.1]")]
    [InlineData("[::1")]
    [InlineData("[::1]:53")]
    [InlineData("[[::1]]")]
    [InlineData("10.1")]
    [InlineData("host.docker.internal")]
    public void RejectsMalformedText(string text)
    {
        Assert.False(IpAddress.TryParse(text, out _));
        Assert.Throws<FormatException>(() => IpAddress.Parse(text));
    }

    [Fact]
    public void Ipv6IsNotV4()
    {
        IpAddress address = Ipv6Address.Parse("fdc4:f303:9324::3");
        Assert.False(address.IsV4);
        Assert.Equal(Ipv6Address.Parse("fdc4:f303:9324::3"), address.V6);
    }

    [Fact]
    public void ClassifiesByFamily()
    {
        Assert.True(IpAddress.Parse("127.0.0.1").IsLoopback);
        Assert.True(IpAddress.Parse("::1").IsLoopback);
        Assert.False(IpAddress.Parse("::ffff:0.0.0.1").IsLoopback);
        Assert.True(IpAddress.Parse("0.0.0.0").IsUnspecified);
        Assert.True(IpAddress.Parse("::").IsUnspecified);
        // ::ffff:0.0.0.0 is the IPv4 unspecified address, while :: is IPv6's.
        Assert.True(IpAddress.Parse("0.0.0.0").IsV4);
        Assert.False(IpAddress.Parse("::").IsV4);
    }

    [Fact]
    public void EndpointsFormatByFamily()
    {
        Assert.Equal("198.18.5.2:4000", new IpEndpoint(IpAddress.Parse("198.18.5.2"), 4000).ToString());
        Assert.Equal("[fe80::1]:53", new IpEndpoint(IpAddress.Parse("fe80::1"), 53).ToString());
    }
}
