using System.Net;
using Usernet.Platform;
using Usernet.Wire;

namespace Usernet.Tests.Platform;

public sealed class IpAddressConversionsTests
{
    [Theory]
    [InlineData("198.18.5.1")]
    [InlineData("::ffff:198.18.5.1")]
    [InlineData("fe80::1")]
    [InlineData("::")]
    [InlineData("0.0.0.0")]
    public void ConvertsToAndFromIPAddress(string text)
    {
        var address = IpAddress.Parse(text);
        Assert.Equal(address, address.ToIPAddress().ToIpAddress());
        Assert.Equal(address, IPAddress.Parse(text).ToIpAddress());
        // A socket reports IPv4 peers of dual-stack sockets as mapped; they are the same address.
        if (address.IsV4)
        {
            Assert.Equal(System.Net.Sockets.AddressFamily.InterNetwork, address.ToIPAddress().AddressFamily);
            Assert.Equal(address, address.ToIPAddress().MapToIPv6().ToIpAddress());
        }
    }
}
