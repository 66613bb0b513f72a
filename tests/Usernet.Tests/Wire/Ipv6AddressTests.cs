using System.Net;
using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class Ipv6AddressTests
{
    [Theory]
    [InlineData("fdc4:f303:9324::3", "fdc4:f303:9324::3")]
    [InlineData("FDC4:F303:9324:0:0:0:0:254", "fdc4:f303:9324::254")]
    [InlineData("::", "::")]
    [InlineData("::1", "::1")]
    [InlineData("fe80::1", "fe80::1")]
    [InlineData("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1")]
    // RFC 5952 §4.2.3: the longest run of zeros is shortened, the first of two equal runs.
    [InlineData("1:0:0:1:0:0:0:1", "1:0:0:1::1")]
    [InlineData("1:0:0:2:0:0:3:4", "1::2:0:0:3:4")]
    // §4.2.2: never "::" for one zero group; §4.1: no leading zeros.
    [InlineData("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0")]
    [InlineData("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8")]
    [InlineData("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0")]
    [InlineData("0001:00a0:0b00:c000::", "1:a0:b00:c000::")]
    [InlineData("0:0:0:0:0:0:0:0", "::")]
    [InlineData("1::", "1::")]
    // §5: an IPv4-mapped address ends in its dotted quad; RFC 4291 §2.2 allows one anywhere it fits.
    [InlineData("::ffff:198.18.5.1", "::ffff:198.18.5.1")]
    [InlineData("::FFFF:c612:501", "::ffff:198.18.5.1")]
    [InlineData("64:ff9b::192.0.2.33", "64:ff9b::c000:221")]
    [InlineData("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304")]
    public void ParsesAndFormats(string text, string formatted)
    {
        var address = Ipv6Address.Parse(text);
        Assert.Equal(formatted, address.ToString());
        Assert.Equal(address, Ipv6Address.Parse(address.ToString()));
        // The same 16 bytes as the platform's own parser reads.
        Assert.Equal(IPAddress.Parse(text).GetAddressBytes(), Bytes(address));
    }

    private static byte[] Bytes(Ipv6Address address)
    {
        byte[] bytes = new byte[Ipv6Address.Length];
        address.Write(bytes);
        return bytes;
    }

    [Theory]
    [InlineData("")]
    [InlineData("198.18.5.1")]
    [InlineData("fdc4::f303::1")]
    [InlineData("fdc4:f303:9324:0:0:0:0:0:1")]
    [InlineData("g::1")]
    [InlineData("[::1]")]
    [InlineData("[::1]:53")]
    [InlineData("fe80::1%eth0")]
    [InlineData("fe80::1%2")]
    [InlineData(" ::1")]
    [InlineData("::1 ")]
    [InlineData(":::")]
    [InlineData("1::2::3")]
    [InlineData(":1::2")]
    [InlineData("1::2:")]
    [InlineData("1:2:3:4:5:6:7")]
    [InlineData("1:2:3:4:5:6:7::8")]
    [InlineData("12345::1")]
    [InlineData("::1.2.3")]
    [InlineData("::01.2.3.4")]
    [InlineData("1.2.3.4::")]
    [InlineData("::1.2.3.4:5")]
    [InlineData("1:2:3:4:5:6:7:1.2.3.4")]
    [InlineData("0x1::")]
    [InlineData("+1::")]
    public void RejectsMalformedText(string text)
    {
        Assert.False(Ipv6Address.TryParse(text, out _));
        Assert.Throws<FormatException>(() => Ipv6Address.Parse(text));
    }

    [Fact]
    public void ReadsAndWritesNetworkOrder()
    {
        byte[] bytes = new byte[16];
        Ipv6Address.Parse("fdc4:f303:9324::1").Write(bytes);
        Assert.Equal(Convert.FromHexString("fdc4f303932400000000000000000001"), bytes);
        Assert.Equal(Ipv6Address.Parse("fdc4:f303:9324::1"), Ipv6Address.Read(bytes));
    }

    [Theory]
    [InlineData("fe80::1", true)]
    [InlineData("fe80::1234:5678:9abc:def0", true)]
    [InlineData("febf:ffff::1", true)]
    [InlineData("fec0::1", false)]
    [InlineData("fe7f::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("fdc4:f303:9324::3", false)]
    public void ClassifiesLinkLocal(string text, bool linkLocal)
    {
        Assert.Equal(linkLocal, Ipv6Address.Parse(text).IsLinkLocal);
    }

    [Theory]
    [InlineData("ff02::1", true)]
    [InlineData("ff02::1:ff00:3", true)]
    [InlineData("ff05::2", true)]
    [InlineData("fe80::1", false)]
    [InlineData("::1", false)]
    public void ClassifiesMulticast(string text, bool multicast)
    {
        Assert.Equal(multicast, Ipv6Address.Parse(text).IsMulticast);
    }

    [Fact]
    public void ClassifiesSpecialAddresses()
    {
        Assert.True(Ipv6Address.Any.IsUnspecified);
        Assert.True(Ipv6Address.Loopback.IsLoopback);
        Assert.Equal(Ipv6Address.Parse("::1"), Ipv6Address.Loopback);
        Assert.False(Ipv6Address.Parse("::2").IsLoopback);
    }

    [Theory]
    // RFC 4291 §2.7.1: ff02::1:ff00:0/104 and the low 24 bits of the unicast address.
    [InlineData("fdc4:f303:9324::3", "ff02::1:ff00:3")]
    [InlineData("fdc4:f303:9324::254", "ff02::1:ff00:254")]
    [InlineData("fe80::1234:5678:9abc:def0", "ff02::1:ffbc:def0")]
    [InlineData("2001:db8::ffff:ffff", "ff02::1:ffff:ffff")]
    [InlineData("::", "ff02::1:ff00:0")]
    public void SolicitedNodeKeepsTheLow24Bits(string unicast, string group)
    {
        var solicited = Ipv6Address.Parse(unicast).SolicitedNode;
        Assert.Equal(Ipv6Address.Parse(group), solicited);
        Assert.True(solicited.IsMulticast);
    }

    [Fact]
    public void OrdersByValue()
    {
        Assert.True(Ipv6Address.Parse("::1").CompareTo(Ipv6Address.Parse("::2")) < 0);
        Assert.True(Ipv6Address.Parse("fe80::").CompareTo(Ipv6Address.Parse("fdc4::")) > 0);
    }
}
