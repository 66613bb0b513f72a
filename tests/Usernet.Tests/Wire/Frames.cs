using Usernet.Wire;

namespace Usernet.Tests.Wire;

/// <summary>The addresses in the captures, and checked unwrapping of captured frames layer by layer.</summary>
internal static class Frames
{
    public static readonly MacAddress SideA = new(0x0218_0500_000a);
    public static readonly MacAddress SideB = new(0x0218_0500_000b);
    public static readonly Ipv4Address AddressA = Ipv4Address.Parse("198.18.5.1");
    public static readonly Ipv4Address AddressB = Ipv4Address.Parse("198.18.5.2");

    /// <summary>The IPv6 addresses of the first part of <see cref="Ipv6Captures"/>.</summary>
    public static readonly Ipv6Address Ipv6A = Ipv6Address.Parse("2001:2:0:5::a");
    public static readonly Ipv6Address Ipv6B = Ipv6Address.Parse("2001:2:0:5::b");

    /// <summary>A capture by property name, so that theories show a name rather than bytes.</summary>
    public static byte[] Captured(string name) =>
        (byte[])(typeof(Captures).GetProperty(name) ?? typeof(Ipv6Captures).GetProperty(name))!.GetValue(null)!;

    public static Ipv4Packet Ipv4(byte[] frame)
    {
        Assert.True(EthernetFrame.TryParse(frame, out var ethernet));
        Assert.Equal(EtherType.Ipv4, ethernet.EtherType);
        Assert.Equal(Ipv4ParseError.None, Ipv4Packet.TryParse(ethernet.Payload, out var packet));
        return packet;
    }

    public static Ipv6Packet Ipv6(byte[] frame)
    {
        Assert.True(EthernetFrame.TryParse(frame, out var ethernet));
        Assert.Equal(EtherType.Ipv6, ethernet.EtherType);
        Assert.Equal(Ipv6ParseError.None, Ipv6Packet.TryParse(ethernet.Payload, out var packet));
        return packet;
    }

    /// <summary>The upper-layer bytes of an IPv6 frame without fragment header, checked to be <paramref name="protocol"/>.</summary>
    public static Span<byte> Ipv6Payload(byte[] frame, byte protocol)
    {
        var packet = Ipv6(frame);
        Assert.True(packet.TryFindUpperLayer(out byte found, out int offset, out var fragment));
        Assert.Equal(protocol, found);
        Assert.Null(fragment);
        return packet.Buffer[offset..];
    }

    public static UdpDatagram Udp(byte[] frame)
    {
        var packet = Ipv4(frame);
        Assert.Equal(IpProtocol.Udp, packet.Protocol);
        Assert.True(UdpDatagram.TryParse(packet.Payload, out var datagram));
        return datagram;
    }

    public static IcmpV4Message Icmp(byte[] frame)
    {
        var packet = Ipv4(frame);
        Assert.Equal(IpProtocol.Icmp, packet.Protocol);
        Assert.True(IcmpV4Message.TryParse(packet.Payload, out var message, out bool checksumValid));
        Assert.True(checksumValid);
        return message;
    }

    public static DhcpMessage Dhcp(byte[] frame)
    {
        Assert.True(DhcpMessage.TryParse(Udp(frame).Payload, out var message));
        return message;
    }
}
