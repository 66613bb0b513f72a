using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class ArpPacketTests
{
    private static byte[] ArpOf(byte[] frame)
    {
        Assert.True(EthernetFrame.TryParse(frame, out var ethernet));
        Assert.Equal(EtherType.Arp, ethernet.EtherType);
        return ethernet.Payload.ToArray();
    }

    [Fact]
    public void ParsesCapturedRequest()
    {
        Assert.True(ArpPacket.TryParse(ArpOf(Captures.ArpRequest), out var arp));
        Assert.Equal(ArpOperation.Request, arp.Operation);
        Assert.Equal(1, arp.HardwareType);
        Assert.Equal(EtherType.Ipv4, arp.ProtocolType);
        Assert.Equal(Frames.SideA, arp.SenderHardware);
        Assert.Equal(Frames.AddressA, arp.SenderProtocol);
        // Linux asks with a zero target hardware address (RFC 826 leaves it unspecified).
        Assert.Equal(MacAddress.Zero, arp.TargetHardware);
        Assert.Equal(Frames.AddressB, arp.TargetProtocol);
    }

    [Fact]
    public void ParsesCapturedReply()
    {
        Assert.True(ArpPacket.TryParse(ArpOf(Captures.ArpReply), out var arp));
        Assert.Equal(ArpOperation.Reply, arp.Operation);
        Assert.Equal(Frames.SideB, arp.SenderHardware);
        Assert.Equal(Frames.AddressB, arp.SenderProtocol);
        Assert.Equal(Frames.SideA, arp.TargetHardware);
        Assert.Equal(Frames.AddressA, arp.TargetProtocol);
    }

    [Fact]
    public void WriteRebuildsCapturedRequestAndReply()
    {
        byte[] request = new byte[ArpPacket.Length];
        ArpPacket.Write(request, ArpOperation.Request, Frames.SideA, Frames.AddressA, MacAddress.Zero, Frames.AddressB);
        Assert.Equal(ArpOf(Captures.ArpRequest), request);

        // The way the gateway answers: the whole frame, header and packet.
        byte[] frame = new byte[EthernetFrame.HeaderLength + ArpPacket.Length];
        EthernetFrame.WriteHeader(frame, Frames.SideA, Frames.SideB, EtherType.Arp);
        ArpPacket.Write(frame.AsSpan(EthernetFrame.HeaderLength), ArpOperation.Reply, Frames.SideB, Frames.AddressB, Frames.SideA, Frames.AddressA);
        Assert.Equal(Captures.ArpReply, frame);
    }

    [Fact]
    public void SettersTurnARequestIntoItsReply()
    {
        byte[] buffer = ArpOf(Captures.ArpRequest);
        Assert.True(ArpPacket.TryParse(buffer, out var arp));
        arp.Operation = ArpOperation.Reply;
        arp.TargetHardware = arp.SenderHardware;
        arp.TargetProtocol = arp.SenderProtocol;
        arp.SenderHardware = Frames.SideB;
        arp.SenderProtocol = Frames.AddressB;
        Assert.Equal(ArpOf(Captures.ArpReply), buffer);
    }

    [Fact]
    public void RejectsEveryTruncatedLength()
    {
        byte[] arp = ArpOf(Captures.ArpRequest);
        for (int length = 0; length < ArpPacket.Length; length++)
        {
            Assert.False(ArpPacket.TryParse(arp.AsSpan(0, length), out _));
        }
    }

    [Theory]
    [InlineData(1, 0x06)] // hardware type 6 (IEEE 802)
    [InlineData(2, 0x86)] // protocol type 0x86dd
    [InlineData(4, 8)]    // hardware address length 8
    [InlineData(4, 0)]
    [InlineData(5, 16)]   // protocol address length 16
    [InlineData(5, 6)]
    public void RejectsOtherHardwareOrProtocols(int offset, byte value)
    {
        byte[] arp = ArpOf(Captures.ArpRequest);
        arp[offset] = value;
        Assert.False(ArpPacket.TryParse(arp, out _));
    }

    [Fact]
    public void AcceptsTrailingPadding()
    {
        // A 60-byte minimum Ethernet frame leaves 18 bytes of padding after the 28-byte packet.
        byte[] padded = new byte[46];
        ArpOf(Captures.ArpReply).CopyTo(padded, 0);
        Assert.True(ArpPacket.TryParse(padded, out var arp));
        Assert.Equal(Frames.AddressB, arp.SenderProtocol);
    }
}
