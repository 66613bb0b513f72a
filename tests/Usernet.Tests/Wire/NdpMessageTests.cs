using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class NdpMessageTests
{
    private static readonly MacAddress MacA = Frames.SideA;
    private static readonly MacAddress MacB = Frames.SideB;

    /// <summary>The ICMPv6 message of a captured frame, with the pseudo-header sum its checksum covers.</summary>
    private static (byte[] Message, ulong Pseudo, Ipv6Address Source, Ipv6Address Destination) Captured(byte[] frame)
    {
        var ip = Frames.Ipv6(frame);
        Assert.Equal(255, ip.HopLimit);
        return (ip.Payload.ToArray(), ip.PseudoHeaderSum(IpProtocol.Icmpv6, ip.Payload.Length), ip.Source, ip.Destination);
    }

    /// <summary>A message of <paramref name="type"/> with its first word and the body written by <paramref name="body"/>, checksum filled.</summary>
    private static byte[] Build(byte type, uint word, ulong pseudo, int length, Func<Span<byte>, int> body)
    {
        byte[] message = new byte[length];
        var icmp = new Icmpv6Message(message) { Type = type, Code = 0, Word = word };
        int written = body(message.AsSpan(Icmpv6Message.HeaderLength));
        Assert.Equal(length - Icmpv6Message.HeaderLength, written);
        icmp.FillChecksum(pseudo);
        return message;
    }

    [Fact]
    public void TheCapturedSolicitationIsRebuiltFromItsTargetAndAddress()
    {
        var (message, pseudo, source, destination) = Captured(Ipv6Captures.NeighborSolicitation);
        Assert.Equal(Frames.Ipv6A, source);
        // Address resolution goes to the target's solicited-node group (RFC 4861 §7.2.2).
        Assert.Equal(Frames.Ipv6B.SolicitedNode, destination);
        Assert.Equal(Icmpv6Type.NeighborSolicitation, message[0]);
        Assert.Equal(24, NdpMessage.OptionsOffset(Icmpv6Type.NeighborSolicitation));
        Assert.Equal(Frames.Ipv6B, NdpMessage.Target(message));
        Assert.True(NdpMessage.TryReadOptions(message, Icmpv6Type.NeighborSolicitation, out var mac));
        Assert.Equal(MacA, mac);

        byte[] rebuilt = Build(Icmpv6Type.NeighborSolicitation, 0, pseudo, message.Length, body =>
        {
            Frames.Ipv6B.Write(body);
            return 16 + NdpMessage.WriteLinkLayerOption(body[16..], NdpOption.SourceLinkLayerAddress, MacA);
        });
        Assert.Equal(Convert.ToHexString(message), Convert.ToHexString(rebuilt));
    }

    [Fact]
    public void TheCapturedAdvertisementIsRebuiltFromItsFlagsTargetAndAddress()
    {
        var (message, pseudo, _, _) = Captured(Ipv6Captures.NeighborAdvertisement);
        // Solicited and Override, not Router (RFC 4861 §4.4).
        uint flags = BinaryPrimitives.ReadUInt32BigEndian(message.AsSpan(4));
        Assert.Equal(0x6000_0000u, flags);
        Assert.Equal(Frames.Ipv6B, NdpMessage.Target(message));
        Assert.True(NdpMessage.TryReadOptions(message, Icmpv6Type.NeighborAdvertisement, out var mac));
        Assert.Equal(MacB, mac);

        byte[] rebuilt = Build(Icmpv6Type.NeighborAdvertisement, flags, pseudo, message.Length, body =>
        {
            Frames.Ipv6B.Write(body);
            return 16 + NdpMessage.WriteLinkLayerOption(body[16..], NdpOption.TargetLinkLayerAddress, MacB);
        });
        Assert.Equal(Convert.ToHexString(message), Convert.ToHexString(rebuilt));
    }

    [Fact]
    public void TheCapturedRouterSolicitationHasNoOptions()
    {
        var (message, pseudo, source, destination) = Captured(Ipv6Captures.RouterSolicitation);
        Assert.True(source.IsLinkLocal);
        Assert.Equal(Ipv6Address.Parse("ff02::2"), destination);
        Assert.Equal(8, message.Length);
        Assert.True(NdpMessage.TryReadOptions(message, Icmpv6Type.RouterSolicitation, out var mac));
        Assert.Null(mac);
        Assert.Equal(Convert.ToHexString(message), Convert.ToHexString(Build(Icmpv6Type.RouterSolicitation, 0, pseudo, 8, _ => 0)));
    }

    [Fact]
    public void TheCapturedRouterAdvertisementIsRebuiltFromItsParametersAndOptions()
    {
        var (message, pseudo, _, _) = Captured(Ipv6Captures.RouterAdvertisement);
        var ra = message.AsSpan();
        // Current hop limit 64; Managed and Other set, as dnsmasq's stateful range asks; lifetime 1800 s.
        Assert.Equal(64, ra[4]);
        Assert.Equal(0xC0, ra[5]);
        Assert.Equal(1800, BinaryPrimitives.ReadUInt16BigEndian(ra[6..]));
        Assert.True(NdpMessage.TryReadOptions(message, Icmpv6Type.RouterAdvertisement, out var mac));
        Assert.Equal(MacB, mac);

        // Walk the options as RFC 4861 §4.6 lays them out, reading each one's fields.
        var prefix = Ipv6Address.Any;
        int prefixLength = 0, mtu = 0;
        bool onLink = false, autonomous = true;
        uint valid = 0, preferred = 0, dnsLifetime = 0;
        var dns = new List<Ipv6Address>();
        var kinds = new List<byte>();
        for (var options = ra[NdpMessage.OptionsOffset(Icmpv6Type.RouterAdvertisement)..]; options.Length > 0; options = options[(options[1] * 8)..])
        {
            kinds.Add(options[0]);
            switch (options[0])
            {
                case NdpOption.PrefixInformation:
                    prefixLength = options[2];
                    (onLink, autonomous) = ((options[3] & 0x80) != 0, (options[3] & 0x40) != 0);
                    (valid, preferred) = (BinaryPrimitives.ReadUInt32BigEndian(options[4..]), BinaryPrimitives.ReadUInt32BigEndian(options[8..]));
                    prefix = Ipv6Address.Read(options[16..]);
                    break;
                case NdpOption.Mtu:
                    mtu = (int)BinaryPrimitives.ReadUInt32BigEndian(options[4..]);
                    break;
                case NdpOption.RecursiveDnsServer:
                    dnsLifetime = BinaryPrimitives.ReadUInt32BigEndian(options[4..]);
                    for (int at = 8; at < options[1] * 8; at += 16)
                    {
                        dns.Add(Ipv6Address.Read(options[at..]));
                    }
                    break;
            }
        }
        Assert.Equal([NdpOption.PrefixInformation, NdpOption.Mtu, NdpOption.SourceLinkLayerAddress, NdpOption.RecursiveDnsServer], kinds);
        Assert.Equal((Ipv6Address.Parse("2001:2:0:6::"), 64, true, false), (prefix, prefixLength, onLink, autonomous));
        Assert.Equal((3600u, 3600u, 1500), (valid, preferred, mtu));
        Assert.Equal([Ipv6Address.Parse("2001:2:0:6::1")], dns);

        uint parameters = BinaryPrimitives.ReadUInt32BigEndian(ra[4..]);
        byte[] rebuilt = Build(Icmpv6Type.RouterAdvertisement, parameters, pseudo, message.Length, body =>
        {
            // Reachable time and retransmission timer: 0, unspecified.
            body[..8].Clear();
            int at = 8;
            at += NdpMessage.WritePrefixOption(body[at..], prefix, prefixLength, onLink, autonomous, valid, preferred);
            at += NdpMessage.WriteMtuOption(body[at..], mtu);
            at += NdpMessage.WriteLinkLayerOption(body[at..], NdpOption.SourceLinkLayerAddress, mac!.Value);
            at += NdpMessage.WriteRdnssOption(body[at..], dns.ToArray(), dnsLifetime);
            return at;
        });
        Assert.Equal(Convert.ToHexString(message), Convert.ToHexString(rebuilt));
    }

    [Theory]
    // An option of length 0 would loop forever (RFC 4861 §4.6 says drop the packet).
    [InlineData("0100")]
    // An option longer than what is left.
    [InlineData("0102020000000000")]
    // A link-layer address option of 16 bytes: not Ethernet.
    [InlineData("01020218050000000a0000000000000000")]
    // A lone byte where an option header should be.
    [InlineData("0101021805000000" + "03")]
    public void RefusesMalformedOptions(string optionsHex)
    {
        byte[] options = Convert.FromHexString(optionsHex);
        byte[] message = [.. Ipv6Captures.NeighborSolicitation.AsSpan(EthernetFrame.HeaderLength + Ipv6Packet.HeaderLength, 24), .. options];
        Assert.False(NdpMessage.TryReadOptions(message, Icmpv6Type.NeighborSolicitation, out _));
    }

    [Fact]
    public void SkipsUnknownOptionsAndRefusesMessagesCutBeforeTheirOptions()
    {
        byte[] ns = Frames.Ipv6(Ipv6Captures.NeighborSolicitation).Payload.ToArray();
        byte[] withUnknown = [.. ns, 0xFE, 0x01, 0, 0, 0, 0, 0, 0];
        Assert.True(NdpMessage.TryReadOptions(withUnknown, Icmpv6Type.NeighborSolicitation, out var mac));
        Assert.Equal(MacA, mac);
        Assert.False(NdpMessage.TryReadOptions(ns.AsSpan(0, 20), Icmpv6Type.NeighborSolicitation, out _));
        Assert.False(NdpMessage.TryReadOptions(ns, Icmpv6Type.EchoRequest, out _));
    }

    [Fact]
    public void TheDnsSearchListIsPaddedToEightBytes()
    {
        byte[] names = [5, .. "local"u8, 0];
        byte[] option = new byte[32];
        option.AsSpan().Fill(0xEE);
        int length = NdpMessage.WriteDnsslOption(option, names, 600);
        Assert.Equal(16, length);
        Assert.Equal((NdpOption.DnsSearchList, 2), (option[0], (int)option[1]));
        Assert.Equal(600u, BinaryPrimitives.ReadUInt32BigEndian(option.AsSpan(4)));
        Assert.Equal([.. names, 0], option.AsSpan(8, 8).ToArray());
    }
}
