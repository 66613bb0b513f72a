using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class EthernetFrameTests
{
    [Fact]
    public void ParsesCapturedBroadcast()
    {
        byte[] captured = Captures.ArpRequest;
        Assert.True(EthernetFrame.TryParse(captured, out var frame));
        Assert.Equal(MacAddress.Broadcast, frame.Destination);
        Assert.True(frame.Destination.IsBroadcast);
        Assert.Equal(Frames.SideA, frame.Source);
        Assert.Equal(EtherType.Arp, frame.EtherType);
        Assert.Equal(ArpPacket.Length, frame.Payload.Length);
        Assert.Equal(captured.Length, frame.Buffer.Length);
    }

    [Fact]
    public void ParsesCapturedUnicast()
    {
        Assert.True(EthernetFrame.TryParse(Captures.PingReply, out var frame));
        Assert.Equal(Frames.SideA, frame.Destination);
        Assert.Equal(Frames.SideB, frame.Source);
        Assert.Equal(EtherType.Ipv4, frame.EtherType);
        Assert.Equal(84, frame.Payload.Length);
    }

    [Theory]
    [InlineData(nameof(Captures.ArpReply))]
    [InlineData(nameof(Captures.PingRequest))]
    [InlineData(nameof(Captures.DhcpDiscover))]
    [InlineData(nameof(Captures.FragmentedPingReply1))]
    public void WriteHeaderRebuildsCapturedFrames(string name)
    {
        byte[] captured = Frames.Captured(name);
        Assert.True(EthernetFrame.TryParse(captured, out var parsed));

        byte[] rebuilt = new byte[captured.Length];
        EthernetFrame.WriteHeader(rebuilt, parsed.Destination, parsed.Source, parsed.EtherType);
        parsed.Payload.CopyTo(rebuilt.AsSpan(EthernetFrame.HeaderLength));
        Assert.Equal(captured, rebuilt);
    }

    [Fact]
    public void SettersWriteTheirFieldsOnly()
    {
        byte[] captured = Captures.PingRequest;
        byte[] buffer = (byte[])captured.Clone();
        var frame = new EthernetFrame(buffer)
        {
            Destination = Frames.SideA,
            Source = Frames.SideB,
            EtherType = EtherType.Ipv6,
        };
        Assert.Equal(Frames.SideA, frame.Destination);
        Assert.Equal(Frames.SideB, frame.Source);
        Assert.Equal(EtherType.Ipv6, frame.EtherType);
        Assert.Equal(Convert.FromHexString("02180500000a02180500000b86dd"), buffer[..14]);
        Assert.Equal(captured[14..], buffer[14..]);
    }

    [Fact]
    public void RejectsEveryLengthBelowTheHeader()
    {
        byte[] captured = Captures.ArpRequest;
        for (int length = 0; length < EthernetFrame.HeaderLength; length++)
        {
            Assert.False(EthernetFrame.TryParse(captured.AsSpan(0, length), out _));
        }
        Assert.True(EthernetFrame.TryParse(captured.AsSpan(0, EthernetFrame.HeaderLength), out var empty));
        Assert.True(empty.Payload.IsEmpty);
    }
}
