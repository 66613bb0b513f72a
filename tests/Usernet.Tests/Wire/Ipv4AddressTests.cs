using System.Net;
using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class Ipv4AddressTests
{
    [Theory]
    [InlineData("198.18.5.1", 0xC612_0501u)]
    [InlineData("0.0.0.0", 0u)]
    [InlineData("255.255.255.255", 0xFFFF_FFFFu)]
    [InlineData("192.168.65.254", 0xC0A8_41FEu)]
    public void ParsesAndFormats(string text, uint value)
    {
        var address = Ipv4Address.Parse(text);
        Assert.Equal(value, address.Value);
        Assert.Equal(text, address.ToString());
        Assert.Equal(IPAddress.Parse(text).GetAddressBytes(), Bytes(address));
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("10.1")]
    [InlineData("10.1.2")]
    [InlineData("1.2.3.4.5")]
    [InlineData("256.1.1.1")]
    [InlineData("1.2.3.-4")]
    [InlineData("::1")]
    [InlineData("::ffff:1.2.3.4")]
    [InlineData("example")]
    [InlineData("0x0a.0.0.1")]
    [InlineData("010.0.0.1")]
    [InlineData(" 1.2.3.4")]
    [InlineData("1.2.3.4 ")]
    [InlineData("1.2..4")]
    public void RejectsAnythingButADottedQuad(string text)
    {
        Assert.False(Ipv4Address.TryParse(text, out _));
        Assert.Throws<FormatException>(() => Ipv4Address.Parse(text));
    }

    [Fact]
    public void ReadsAndWritesNetworkOrder()
    {
        byte[] bytes = new byte[4];
        Ipv4Address.FromBytes(198, 18, 5, 2).Write(bytes);
        Assert.Equal([198, 18, 5, 2], bytes);
        Assert.Equal(Ipv4Address.Parse("198.18.5.2"), Ipv4Address.Read(bytes));
        Assert.Equal(BitConverter.ToUInt32(bytes), Ipv4Address.Read(bytes).NetworkOrder);
        Assert.Equal(Ipv4Address.Read(bytes), Ipv4Address.FromNetworkOrder(BitConverter.ToUInt32(bytes)));
    }

    [Theory]
    [InlineData("224.0.0.1", true)]
    [InlineData("239.255.255.250", true)]
    [InlineData("223.255.255.255", false)]
    [InlineData("240.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    public void ClassifiesMulticast(string text, bool multicast)
    {
        Assert.Equal(multicast, Ipv4Address.Parse(text).IsMulticast);
    }

    [Fact]
    public void ClassifiesSpecialAddresses()
    {
        Assert.True(Ipv4Address.Broadcast.IsBroadcast);
        Assert.False(Ipv4Address.Parse("198.18.6.255").IsBroadcast);
        Assert.True(Ipv4Address.Any.IsUnspecified);
        Assert.True(Ipv4Address.Parse("127.0.0.1").IsLoopback);
        Assert.True(Ipv4Address.Parse("127.255.0.9").IsLoopback);
        Assert.False(Ipv4Address.Parse("128.0.0.1").IsLoopback);
    }

    [Fact]
    public void OffsetsAndOrders()
    {
        var gateway = Ipv4Address.Parse("192.168.65.1");
        Assert.Equal(Ipv4Address.Parse("192.168.65.3"), gateway.Offset(2));
        Assert.Equal(Ipv4Address.Parse("192.168.64.255"), gateway.Offset(-2));
        Assert.Equal(Ipv4Address.Any, Ipv4Address.Broadcast.Offset(1));
        Assert.True(gateway < gateway.Offset(1));
        Assert.True(Ipv4Address.Broadcast > gateway);
        var same = Ipv4Address.Parse("192.168.65.1");
        Assert.True(gateway <= same && gateway >= same);
        Assert.True(gateway.CompareTo(Ipv4Address.Parse("10.0.0.1")) > 0);
    }

    private static byte[] Bytes(Ipv4Address address)
    {
        byte[] bytes = new byte[Ipv4Address.Length];
        address.Write(bytes);
        return bytes;
    }
}
