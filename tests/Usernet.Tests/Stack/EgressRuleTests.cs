using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Tests.Stack;

public sealed class EgressRuleTests
{
    private static readonly StackOptions On = new();
    private static readonly StackOptions Off = new() { HostLoopback = false };

    [Theory]
    [InlineData("192.168.65.254", "127.0.0.1")]
    [InlineData("fdc4:f303:9324::254", "::1")]
    // A v4-mapped host address in an IPv6 packet is the host address all the same.
    [InlineData("::ffff:192.168.65.254", "127.0.0.1")]
    public void TheHostAddressIsTheHostLoopbackWhileHostLoopbackIsOn(string destination, string loopback)
    {
        Assert.Equal(EgressVerdict.HostLoopback, EgressRule.Decide(On, IpAddress.Parse(destination), out var target));
        Assert.Equal(IpAddress.Parse(loopback), target);
        Assert.Equal(EgressVerdict.Refused, EgressRule.Decide(Off, IpAddress.Parse(destination), out _));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.1.2.3")]
    [InlineData("127.255.255.255")]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:0.0.0.0")]
    [InlineData("::127.0.0.1")]
    [InlineData("::0.0.0.2")]
    public void TheHostsLoopbackNamedDirectlyIsAlwaysRefused(string destination)
    {
        Assert.Equal(EgressVerdict.Refused, EgressRule.Decide(On, IpAddress.Parse(destination), out _));
        Assert.Equal(EgressVerdict.Refused, EgressRule.Decide(Off, IpAddress.Parse(destination), out _));
        Assert.True(EgressRule.IsHostLocal(IpAddress.Parse(destination)));
    }

    [Theory]
    [InlineData("192.168.65.1")]
    [InlineData("fdc4:f303:9324::1")]
    public void TheGatewayIsItsOwn(string destination)
    {
        Assert.Equal(EgressVerdict.Gateway, EgressRule.Decide(On, IpAddress.Parse(destination), out var target));
        Assert.Equal(IpAddress.Parse(destination), target);
        Assert.Equal(EgressVerdict.Gateway, EgressRule.Decide(On, On.GatewayLinkLocal, out _));
    }

    [Theory]
    [InlineData("198.18.0.1")]
    [InlineData("1.0.0.0")]
    [InlineData("126.255.255.255")]
    [InlineData("128.0.0.1")]
    [InlineData("192.168.65.253")]
    [InlineData("2001:db8::1")]
    [InlineData("::ffff:198.18.0.1")]
    [InlineData("::1:0:0:1")]
    [InlineData("64:ff9b::7f00:1")]
    public void AnythingElseIsItself(string destination)
    {
        Assert.Equal(EgressVerdict.Direct, EgressRule.Decide(Off, IpAddress.Parse(destination), out var target));
        Assert.Equal(IpAddress.Parse(destination), target);
        Assert.Equal(EgressVerdict.Direct, EgressRule.Decide(On, IpAddress.Parse(destination), out _));
    }

    [Fact]
    public void TheHostAddressesFollowTheOptions()
    {
        var moved = new StackOptions { Host = Ipv4Address.Parse("10.0.2.2"), HostV6 = Ipv6Address.Parse("fd00::2") };
        Assert.Equal(EgressVerdict.HostLoopback, EgressRule.Decide(moved, IpAddress.Parse("10.0.2.2"), out _));
        Assert.Equal(EgressVerdict.HostLoopback, EgressRule.Decide(moved, IpAddress.Parse("fd00::2"), out _));
        Assert.Equal(EgressVerdict.Direct, EgressRule.Decide(moved, IpAddress.Parse("192.168.65.254"), out _));
    }
}
