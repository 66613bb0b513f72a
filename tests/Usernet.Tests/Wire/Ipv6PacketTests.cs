using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class Ipv6PacketTests
{
    [Fact]
    public void ParsesCapturedPing()
    {
        var packet = Frames.Ipv6(Ipv6Captures.Ping6Request);
        Assert.Equal(0, packet.TrafficClass);
        // Linux labels the flow (RFC 6437); the label is whatever its hash gave.
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(Ipv6Captures.Ping6Request.AsSpan(EthernetFrame.HeaderLength)) & 0xF_FFFF, packet.FlowLabel);
        Assert.Equal(64, packet.PayloadLength);
        Assert.Equal(IpProtocol.Icmpv6, packet.NextHeader);
        Assert.Equal(64, packet.HopLimit);
        Assert.Equal(Frames.Ipv6A, packet.Source);
        Assert.Equal(Frames.Ipv6B, packet.Destination);
        Assert.Equal(64, packet.Payload.Length);
        Assert.True(packet.TryFindUpperLayer(out byte protocol, out int offset, out var fragment));
        Assert.Equal((IpProtocol.Icmpv6, Ipv6Packet.HeaderLength), (protocol, offset));
        Assert.Null(fragment);
    }

    [Fact]
    public void ParsesTheTrafficClassDnsmasqSets()
    {
        // dnsmasq marks its router advertisements CS6 (RFC 4594): traffic class 0xc0.
        var packet = Frames.Ipv6(Ipv6Captures.RouterAdvertisement);
        Assert.Equal(0xc0, packet.TrafficClass);
        Assert.Equal(255, packet.HopLimit);
    }

    [Theory]
    [InlineData(nameof(Ipv6Captures.FragmentedPing6Request1), 0, true)]
    [InlineData(nameof(Ipv6Captures.FragmentedPing6Request2), 1448, true)]
    [InlineData(nameof(Ipv6Captures.FragmentedPing6Request3), 2896, false)]
    public void FindsTheCapturedFragmentHeader(string name, int fragmentOffset, bool more)
    {
        var packet = Frames.Ipv6(Frames.Captured(name));
        Assert.Equal(IpProtocol.Ipv6Fragment, packet.NextHeader);
        Assert.True(packet.TryFindUpperLayer(out byte protocol, out int offset, out var fragment));
        Assert.Equal(IpProtocol.Icmpv6, protocol);
        Assert.Equal(Ipv6Packet.HeaderLength + 8, offset);
        Assert.NotNull(fragment);
        Assert.Equal(fragmentOffset, fragment.Value.Offset);
        Assert.Equal(more, fragment.Value.MoreFragments);
        Assert.Equal(Ipv6Packet.HeaderLength, fragment.Value.HeaderOffset);
        // All three fragments carry the same identification.
        Assert.True(Frames.Ipv6(Ipv6Captures.FragmentedPing6Request1).TryFindUpperLayer(out _, out _, out var first));
        Assert.Equal(first!.Value.Identification, fragment.Value.Identification);
    }

    public static TheoryData<string> AllCaptures() => new(typeof(Ipv6Captures).GetProperties().Select(p => p.Name));

    [Theory]
    [MemberData(nameof(AllCaptures))]
    public void RebuildsCapturedFramesWholly(string name)
    {
        // Ethernet, the IPv6 header and any fragment header written from the parsed fields, the
        // upper layer copied: the same bytes.
        byte[] captured = Frames.Captured(name);
        Assert.True(EthernetFrame.TryParse(captured, out var ethernet));
        var ip = Frames.Ipv6(captured);
        Assert.True(ip.TryFindUpperLayer(out byte protocol, out int offset, out var fragment));

        byte[] rebuilt = new byte[captured.Length];
        EthernetFrame.WriteHeader(rebuilt, ethernet.Destination, ethernet.Source, EtherType.Ipv6);
        Span<byte> packet = rebuilt.AsSpan(EthernetFrame.HeaderLength);
        Ipv6Packet.WriteHeader(packet, ip.Source, ip.Destination, ip.NextHeader, ip.PayloadLength, ip.HopLimit, ip.TrafficClass, ip.FlowLabel);
        if (fragment is { } header)
        {
            Ipv6Packet.WriteFragmentHeader(packet[header.HeaderOffset..], protocol, header.Offset, header.MoreFragments, header.Identification);
        }
        ip.Buffer[offset..].CopyTo(packet[offset..]);
        Assert.Equal(Convert.ToHexString(captured), Convert.ToHexString(rebuilt));
    }

    [Fact]
    public void TheViewEndsWhereThePayloadLengthSays()
    {
        byte[] padded = [.. Ipv6Captures.RouterSolicitation.AsSpan(EthernetFrame.HeaderLength), 0, 0, 0, 0];
        Assert.Equal(Ipv6ParseError.None, Ipv6Packet.TryParse(padded, out var packet));
        Assert.Equal(Ipv6Packet.HeaderLength + 8, packet.Buffer.Length);
    }

    [Fact]
    public void RefusesMalformedHeaders()
    {
        byte[] good = Ipv6Captures.Ping6Request.AsSpan(EthernetFrame.HeaderLength).ToArray();
        Assert.Equal(Ipv6ParseError.Truncated, Ipv6Packet.TryParse(good.AsSpan(0, 39), out _));

        byte[] version4 = good.ToArray();
        version4[0] = 0x45;
        Assert.Equal(Ipv6ParseError.BadVersion, Ipv6Packet.TryParse(version4, out _));

        byte[] tooLong = good.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(tooLong.AsSpan(4), (ushort)(good.Length - Ipv6Packet.HeaderLength + 1));
        Assert.Equal(Ipv6ParseError.BadPayloadLength, Ipv6Packet.TryParse(tooLong, out _));

        // Payload length 0 with hop-by-hop options announces a jumbogram (RFC 2675), refused.
        byte[] jumbo = good.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(jumbo.AsSpan(4), 0);
        jumbo[6] = IpProtocol.HopByHop;
        Assert.Equal(Ipv6ParseError.BadPayloadLength, Ipv6Packet.TryParse(jumbo, out _));
    }

    /// <summary>An IPv6 packet whose payload is the given extension headers, each 8 bytes, then 8 bytes of upper layer.</summary>
    private static byte[] WithExtensions(params byte[] chain)
    {
        byte[] packet = new byte[Ipv6Packet.HeaderLength + (chain.Length - 1) * 8 + 8];
        Ipv6Packet.WriteHeader(packet, Frames.Ipv6A, Frames.Ipv6B, chain[0], packet.Length - Ipv6Packet.HeaderLength, 64);
        for (int i = 1; i < chain.Length; i++)
        {
            packet[Ipv6Packet.HeaderLength + (i - 1) * 8] = chain[i];
        }
        return packet;
    }

    [Fact]
    public void WalksExtensionHeadersToTheUpperLayer()
    {
        byte[] packet = WithExtensions(IpProtocol.HopByHop, IpProtocol.Ipv6Options, IpProtocol.Ipv6Fragment, IpProtocol.Udp);
        Assert.True(new Ipv6Packet(packet).TryFindUpperLayer(out byte protocol, out int offset, out var fragment));
        Assert.Equal(IpProtocol.Udp, protocol);
        Assert.Equal(Ipv6Packet.HeaderLength + 24, offset);
        Assert.Equal(Ipv6Packet.HeaderLength + 16, fragment!.Value.HeaderOffset);
    }

    [Fact]
    public void RefusesExtensionHeadersThatAreMalformedOrEndless()
    {
        // Two fragment headers in one packet.
        Assert.False(new Ipv6Packet(WithExtensions(IpProtocol.Ipv6Fragment, IpProtocol.Ipv6Fragment, IpProtocol.Udp)).TryFindUpperLayer(out _, out _, out _));
        // More extension headers than any real packet has.
        byte[] chain = [.. Enumerable.Repeat(IpProtocol.Ipv6Options, 9), IpProtocol.Udp];
        Assert.False(new Ipv6Packet(WithExtensions(chain)).TryFindUpperLayer(out _, out _, out _));
        // A header whose length runs past the packet.
        byte[] overlong = WithExtensions(IpProtocol.HopByHop, IpProtocol.Udp);
        overlong[Ipv6Packet.HeaderLength + 1] = 3;
        Assert.False(new Ipv6Packet(overlong).TryFindUpperLayer(out _, out _, out _));
        // A header cut short.
        byte[] cut = WithExtensions(IpProtocol.HopByHop, IpProtocol.Udp);
        Assert.False(new Ipv6Packet(cut.AsSpan(0, Ipv6Packet.HeaderLength + 4)).TryFindUpperLayer(out _, out _, out _));
    }

    [Fact]
    public void WritesTrafficClassAndFlowLabel()
    {
        byte[] header = new byte[Ipv6Packet.HeaderLength];
        Ipv6Packet.WriteHeader(header, Frames.Ipv6A, Frames.Ipv6B, IpProtocol.Udp, 0, 1, trafficClass: 0xb8, flowLabel: 0xFFFFF);
        Assert.Equal("6b8fffff", Convert.ToHexString(header.AsSpan(0, 4)).ToLowerInvariant());
        var packet = new Ipv6Packet(header);
        Assert.Equal((0xb8, 0xFFFFFu), (packet.TrafficClass, packet.FlowLabel));
    }
}
