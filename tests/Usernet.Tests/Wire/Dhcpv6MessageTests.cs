using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class Dhcpv6MessageTests
{
    /// <summary>dhclient's DUID, as the captured Solicit carries it.</summary>
    private static byte[] ClientDuid => Option(Message(Ipv6Captures.Dhcpv6Solicit), Dhcpv6Option.ClientId);

    /// <summary>dnsmasq's DUID, as the captured Advertise carries it.</summary>
    private static byte[] ServerDuid => Option(Message(Ipv6Captures.Dhcpv6Advertise), Dhcpv6Option.ServerId);

    /// <summary>Checks a DUID-LLT (RFC 8415 §11.2): type 1, Ethernet, a time, then the MAC.</summary>
    private static void AssertDuidLlt(byte[] duid, MacAddress mac)
    {
        Assert.Equal(14, duid.Length);
        Assert.Equal((1, 1), (BinaryPrimitives.ReadUInt16BigEndian(duid), BinaryPrimitives.ReadUInt16BigEndian(duid.AsSpan(2))));
        Assert.Equal(mac, MacAddress.Read(duid.AsSpan(8)));
    }

    private static byte[] Payload(byte[] frame)
    {
        var ip = Frames.Ipv6(frame);
        Assert.Equal(IpProtocol.Udp, ip.NextHeader);
        Assert.True(UdpDatagram.TryParse(ip.Payload, out var udp));
        Assert.True(udp.VerifyChecksum(ip.PseudoHeaderSum(IpProtocol.Udp, udp.Length), isIpv6: true));
        return udp.Payload.ToArray();
    }

    private static Dhcpv6Message Message(byte[] frame)
    {
        Assert.True(Dhcpv6Message.TryParse(Payload(frame), out var message));
        return message;
    }

    private static byte[] Option(Dhcpv6Message message, ushort code)
    {
        Assert.True(message.TryGetOption(code, out var data), $"option {code}");
        return data.ToArray();
    }

    [Fact]
    public void ParsesTheCapturedSolicit()
    {
        var solicit = Message(Ipv6Captures.Dhcpv6Solicit);
        Assert.Equal(Dhcpv6MessageType.Solicit, solicit.Type);
        AssertDuidLlt(Option(solicit, Dhcpv6Option.ClientId), Frames.SideA);
        Assert.False(solicit.TryGetOption(Dhcpv6Option.ServerId, out _));
        Assert.Equal(new byte[2], Option(solicit, Dhcpv6Option.ElapsedTime));
        // DNS servers, domain list, and two options Usernet does not serve (FQDN, NTP).
        Assert.Equal(Convert.FromHexString("00170018" + "0027001f"), Option(solicit, Dhcpv6Option.OptionRequest));
        byte[] ia = Option(solicit, Dhcpv6Option.IaNa);
        Assert.Equal(12, ia.Length);
        // IAID from the MAC's low bytes; T1 and T2 as the client would like them.
        Assert.Equal((0x0500000au, 3600u, 5400u), (BinaryPrimitives.ReadUInt32BigEndian(ia), BinaryPrimitives.ReadUInt32BigEndian(ia.AsSpan(4)), BinaryPrimitives.ReadUInt32BigEndian(ia.AsSpan(8))));
    }

    [Fact]
    public void TheClientsMacIsTheOneItsDuidNames()
    {
        // dhclient's DUID-LLT ends with its NIC's MAC; a DUID-EN (type 2) names none.
        Assert.True(Message(Ipv6Captures.Dhcpv6Solicit).TryGetClientMac(out var mac));
        Assert.Equal(Frames.SideA, mac);
        byte[] enterprise = Convert.FromHexString("01000001" + "0001000e" + "0002" + "00000137" + "0102030405060708");
        Assert.True(Dhcpv6Message.TryParse(enterprise, out var message));
        Assert.False(message.TryGetClientMac(out _));
    }

    [Fact]
    public void ParsesTheCapturedAdvertiseAndItsNestedOptions()
    {
        var solicit = Message(Ipv6Captures.Dhcpv6Solicit);
        var advertise = Message(Ipv6Captures.Dhcpv6Advertise);
        Assert.Equal(Dhcpv6MessageType.Advertise, advertise.Type);
        Assert.Equal(solicit.TransactionId, advertise.TransactionId);
        AssertDuidLlt(Option(advertise, Dhcpv6Option.ServerId), Frames.SideB);
        Assert.Equal(ClientDuid, Option(advertise, Dhcpv6Option.ClientId));
        Assert.Equal(Ipv6Address.Parse("2001:2:0:6::1").Value, Ipv6Address.Read(Option(advertise, Dhcpv6Option.DnsServers)).Value);

        byte[] ia = Option(advertise, Dhcpv6Option.IaNa);
        var inner = new Dhcpv6OptionReader(ia.AsSpan(12));
        Assert.True(inner.MoveNext());
        Assert.Equal(Dhcpv6Option.IaAddress, inner.Code);
        var address = Ipv6Address.Read(inner.Data);
        Assert.True(Ipv6Cidr.Parse("2001:2:0:6::/64").Contains(address));
        Assert.Equal((3600u, 3600u), (BinaryPrimitives.ReadUInt32BigEndian(inner.Data[16..]), BinaryPrimitives.ReadUInt32BigEndian(inner.Data[20..])));
        Assert.False(inner.MoveNext());
        // dnsmasq says "success" at the top level, after the IA.
        byte[] status = Option(advertise, Dhcpv6Option.StatusCode);
        Assert.Equal(Dhcpv6Status.Success, BinaryPrimitives.ReadUInt16BigEndian(status));
        Assert.Equal("success"u8.ToArray(), status[2..]);

        // The Request asks for that address from that server; the Reply grants it.
        var request = Message(Ipv6Captures.Dhcpv6Request);
        Assert.Equal(Dhcpv6MessageType.Request, request.Type);
        Assert.Equal(ServerDuid, Option(request, Dhcpv6Option.ServerId));
        Assert.Equal(address, Ipv6Address.Read(Option(request, Dhcpv6Option.IaNa).AsSpan(16)));
        var reply = Message(Ipv6Captures.Dhcpv6Reply);
        Assert.Equal((Dhcpv6MessageType.Reply, request.TransactionId), (reply.Type, reply.TransactionId));
        Assert.Equal(address, Ipv6Address.Read(Option(reply, Dhcpv6Option.IaNa).AsSpan(16)));
    }

    [Fact]
    public void ParsesTheCapturedInformationRequest()
    {
        var information = Message(Ipv6Captures.Dhcpv6InformationRequest);
        Assert.Equal(Dhcpv6MessageType.InformationRequest, information.Type);
        Assert.False(information.TryGetOption(Dhcpv6Option.IaNa, out _));
        var reply = Message(Ipv6Captures.Dhcpv6InformationReply);
        Assert.Equal((Dhcpv6MessageType.Reply, information.TransactionId), (reply.Type, reply.TransactionId));
        Assert.False(reply.TryGetOption(Dhcpv6Option.IaNa, out _));
        Assert.True(reply.TryGetOption(Dhcpv6Option.DnsServers, out _));
    }

    /// <summary>Writes options as the reader sees them; IA_NA's own options are written inside it, after its 12 bytes.</summary>
    private static void Rewrite(ref Dhcpv6OptionWriter writer, Span<byte> options)
    {
        var reader = new Dhcpv6OptionReader(options);
        while (reader.MoveNext())
        {
            if (reader.Code == Dhcpv6Option.IaNa)
            {
                int ia = writer.Open(Dhcpv6Option.IaNa);
                writer.WriteRaw(reader.Data[..12]);
                Rewrite(ref writer, reader.Data[12..]);
                writer.Close(ia);
            }
            else
            {
                writer.Write(reader.Code, reader.Data);
            }
        }
    }

    [Theory]
    [InlineData(nameof(Ipv6Captures.Dhcpv6Solicit))]
    [InlineData(nameof(Ipv6Captures.Dhcpv6Advertise))]
    [InlineData(nameof(Ipv6Captures.Dhcpv6Request))]
    [InlineData(nameof(Ipv6Captures.Dhcpv6Reply))]
    [InlineData(nameof(Ipv6Captures.Dhcpv6InformationRequest))]
    [InlineData(nameof(Ipv6Captures.Dhcpv6InformationReply))]
    public void RebuildsCapturedMessages(string name)
    {
        byte[] payload = Payload(Frames.Captured(name));
        Assert.True(Dhcpv6Message.TryParse(payload, out var message));

        byte[] rebuilt = new byte[payload.Length];
        var written = new Dhcpv6Message(rebuilt) { Type = message.Type, TransactionId = message.TransactionId };
        var writer = new Dhcpv6OptionWriter(written.Options);
        Rewrite(ref writer, message.Options);

        Assert.Equal(payload.Length, Dhcpv6Message.HeaderLength + writer.Length);
        Assert.Equal(Convert.ToHexString(payload), Convert.ToHexString(rebuilt));
    }

    [Theory]
    [InlineData("01")]
    [InlineData("01abcdef" + "0001")]
    [InlineData("01abcdef" + "000100")]
    [InlineData("01abcdef" + "00010005" + "00000000")]
    [InlineData("01abcdef" + "00010000" + "00")]
    public void RefusesOptionsThatRunPastTheMessage(string hex) =>
        Assert.False(Dhcpv6Message.TryParse(Convert.FromHexString(hex), out _));

    [Fact]
    public void AcceptsEmptyOptionsAndNoOptions()
    {
        Assert.True(Dhcpv6Message.TryParse(Convert.FromHexString("0b123456"), out var bare));
        Assert.Equal((Dhcpv6MessageType.InformationRequest, 0x123456u), (bare.Type, bare.TransactionId));
        Assert.True(Dhcpv6Message.TryParse(Convert.FromHexString("01abcdef" + "000e0000"), out var rapid));
        Assert.True(rapid.TryGetOption(Dhcpv6Option.RapidCommit, out var empty));
        Assert.True(empty.IsEmpty);
    }

    [Fact]
    public void TheTransactionIdIsTwentyFourBits()
    {
        byte[] buffer = new byte[Dhcpv6Message.HeaderLength];
        var message = new Dhcpv6Message(buffer) { Type = Dhcpv6MessageType.Reply, TransactionId = 0xFFABCDEF };
        Assert.Equal("07abcdef", Convert.ToHexString(buffer).ToLowerInvariant());
        Assert.Equal(0xABCDEFu, message.TransactionId);
    }

    [Fact]
    public void WritesAStatusCodeWithItsMessage()
    {
        byte[] buffer = new byte[32];
        var writer = new Dhcpv6OptionWriter(buffer);
        writer.WriteStatus(Dhcpv6Status.NoAddressesAvailable, "none");
        Assert.Equal(10, writer.Length);
        Assert.Equal("000d" + "0006" + "0002" + "6e6f6e65", Convert.ToHexString(buffer.AsSpan(0, 10)).ToLowerInvariant());
    }

    [Fact]
    public void AWriteThatDoesNotFitWritesNothingAndSaysSo()
    {
        byte[] buffer = new byte[16];
        var writer = new Dhcpv6OptionWriter(buffer);
        writer.Write(Dhcpv6Option.ElapsedTime, [0, 0]);
        Assert.False(writer.Overflowed);
        int ia = writer.Open(Dhcpv6Option.IaNa);
        writer.WriteUInt32(1);
        writer.WriteUInt32(2);
        Assert.True(writer.Overflowed);
        Assert.Equal(14, writer.Length);
        // Everything after the first miss is skipped, even what would fit.
        writer.WriteRaw([1]);
        writer.Close(ia);
        writer.WriteStatus(Dhcpv6Status.Success, "");
        Assert.Equal(14, writer.Length);
    }
}
