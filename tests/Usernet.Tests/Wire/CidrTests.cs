using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class CidrTests
{
    [Fact]
    public void AnIpv4NetworkKnowsItsBounds()
    {
        var cidr = Ipv4Cidr.Parse("10.99.0.0/16");
        Assert.Equal(Ipv4Address.Parse("10.99.0.0"), cidr.Network);
        Assert.Equal(Ipv4Address.Parse("10.99.255.255"), cidr.Broadcast);
        Assert.Equal(65536UL, cidr.Size);
        Assert.Equal(0xFFFF_0000u, cidr.Mask);
        Assert.True(cidr.Contains(Ipv4Address.Parse("10.99.12.34")));
        Assert.False(cidr.Contains(Ipv4Address.Parse("10.98.255.255")));
        Assert.Equal("10.99.0.0/16", cidr.ToString());
    }

    [Fact]
    public void HostBitsAreClearedSoEqualNetworksAreEqual()
    {
        Assert.Equal(Ipv4Cidr.Parse("192.168.1.0/24"), Ipv4Cidr.Parse("192.168.1.77/24"));
        Assert.True(Ipv4Cidr.TryParse("192.168.1.77/24", out var address, out int prefix));
        Assert.Equal((Ipv4Address.Parse("192.168.1.77"), 24), (address, prefix));
    }

    [Fact]
    public void TheWholeSpaceAndASingleAddressAreNetworks()
    {
        var all = Ipv4Cidr.Parse("0.0.0.0/0");
        Assert.True(all.Contains(Ipv4Address.Parse("255.1.2.3")));
        Assert.Equal(Ipv4Address.Broadcast, all.Broadcast);
        var one = Ipv4Cidr.Parse("10.0.0.1/32");
        Assert.Equal(one.Network, one.Broadcast);
        Assert.Equal(1UL, one.Size);
    }

    [Fact]
    public void NetworksOverlapWhenEitherHoldsTheOther()
    {
        var wide = Ipv4Cidr.Parse("10.0.0.0/8");
        Assert.True(wide.Overlaps(Ipv4Cidr.Parse("10.1.0.0/16")));
        Assert.True(Ipv4Cidr.Parse("10.1.0.0/16").Overlaps(wide));
        Assert.False(wide.Overlaps(Ipv4Cidr.Parse("11.0.0.0/8")));
    }

    [Theory]
    [InlineData("10.0.0.0")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/+8")]
    [InlineData("10.0.0.0/ 8")]
    [InlineData("10.0/8")]
    [InlineData("/8")]
    [InlineData("fd00::/64")]
    public void MalformedIpv4NetworksDoNotParse(string text)
    {
        Assert.False(Ipv4Cidr.TryParse(text, out _));
    }

    [Fact]
    public void AnIpv6PrefixKnowsItsBoundsAndOffsets()
    {
        var prefix = Ipv6Cidr.Parse("fdc4:f303:9324::/64");
        Assert.Equal(Ipv6Address.Parse("fdc4:f303:9324::"), prefix.Network);
        Assert.Equal(Ipv6Address.Parse("fdc4:f303:9324:0:ffff:ffff:ffff:ffff"), prefix.Last);
        Assert.Equal(Ipv6Address.Parse("fdc4:f303:9324::254"), prefix.Address(0x254));
        Assert.True(prefix.Contains(Ipv6Address.Parse("fdc4:f303:9324::3")));
        Assert.False(prefix.Contains(Ipv6Address.Parse("fdc4:f303:9325::3")));
        Assert.True(prefix.Overlaps(Ipv6Cidr.Parse("fdc4:f303::/32")));
        Assert.Equal(Ipv6Cidr.Parse("fd00::/8"), Ipv6Cidr.Parse("fd12::1/8"));
        Assert.True(Ipv6Cidr.Parse("::/0").Contains(Ipv6Address.Loopback));
        Assert.Equal("fdc4:f303:9324::/64", prefix.ToString());
    }

    [Theory]
    [InlineData("fd00::")]
    [InlineData("fd00::/129")]
    [InlineData("10.0.0.0/8")]
    [InlineData("fd00::/-1")]
    public void MalformedIpv6PrefixesDoNotParse(string text)
    {
        Assert.False(Ipv6Cidr.TryParse(text, out _));
    }
}
