using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class MacAddressTests
{
    [Fact]
    public void ReadsAndWritesWireOrder()
    {
        byte[] bytes = [0x02, 0x18, 0x05, 0x00, 0x00, 0x0a];
        var address = MacAddress.Read(bytes);
        Assert.Equal(0x0218_0500_000aUL, address.Value);

        byte[] written = new byte[8];
        address.Write(written);
        Assert.Equal([.. bytes, 0, 0], written);
    }

    [Theory]
    [InlineData("02:18:05:00:00:0a", "02:18:05:00:00:0a")]
    [InlineData("02-18-05-00-00-0A", "02:18:05:00:00:0a")]
    [InlineData("ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff")]
    [InlineData("0:1:2:3:4:5", "00:01:02:03:04:05")]
    public void ParsesAndFormats(string text, string formatted)
    {
        Assert.True(MacAddress.TryParse(text, out var address));
        Assert.Equal(formatted, address.ToString());
        Assert.True(MacAddress.TryParse(address.ToString(), out var again));
        Assert.Equal(address, again);
    }

    [Theory]
    [InlineData("")]
    [InlineData("02:18:05:00:00")]
    [InlineData("02:18:05:00:00:0a:0b")]
    [InlineData("02:18:05:00:00:0g")]
    [InlineData("02:18:05:00:00:100")]
    [InlineData("02:18:05:00::0a")]
    [InlineData("02:18:05:00:00: a")]
    [InlineData("02:18:05:00:00:a ")]
    [InlineData("02:18:05:00:00:+a")]
    public void RejectsMalformedText(string text)
    {
        Assert.False(MacAddress.TryParse(text, out _));
    }

    [Fact]
    public void ClassifiesGroupAndUnicastAddresses()
    {
        Assert.True(MacAddress.Broadcast.IsBroadcast);
        Assert.True(MacAddress.Broadcast.IsMulticast);
        Assert.False(MacAddress.Broadcast.IsUnicast);

        // IPv4 (01:00:5e) and IPv6 (33:33) multicast mappings set the I/G bit.
        Assert.True(MacAddress.TryParse("01:00:5e:00:00:01", out var v4Group));
        Assert.True(v4Group.IsMulticast);
        Assert.False(v4Group.IsBroadcast);
        Assert.True(MacAddress.TryParse("33:33:ff:00:00:03", out var v6Group));
        Assert.True(v6Group.IsMulticast);

        Assert.True(Frames.SideA.IsUnicast);
        Assert.False(Frames.SideA.IsMulticast);
        Assert.False(MacAddress.Zero.IsUnicast);
    }

    [Fact]
    public void NewLocalIsLocallyAdministeredUnicast()
    {
        for (int i = 0; i < 64; i++)
        {
            var address = MacAddress.NewLocal();
            Assert.True(address.IsUnicast);
            Assert.Equal(0x02UL, (address.Value >> 40) & 0x03);
        }
    }

    [Fact]
    public void CapturedFramesCarryTheConfiguredAddresses()
    {
        Assert.True(EthernetFrame.TryParse(Captures.ArpReply, out var frame));
        Assert.Equal("02:18:05:00:00:0b", frame.Source.ToString());
        Assert.Equal(Frames.SideA, frame.Destination);
    }
}
