using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Tests.Wire;

public sealed class DhcpMessageTests
{
    private const uint TransactionId = 0xBDD9A569;
    private static readonly Ipv4Address Server = Ipv4Address.Parse("198.18.6.1");
    private static readonly Ipv4Address Offered = Ipv4Address.Parse("198.18.6.123");
    private static readonly byte[] ParameterList = [1, 3, 6, 12, 15, 28, 42];

    private static byte[] DhcpOf(byte[] frame) => Frames.Udp(frame).Payload.ToArray();

    private static List<(byte Code, byte[] Data)> OptionsOf(DhcpMessage message)
    {
        var options = new List<(byte, byte[])>();
        var reader = message.ReadOptions();
        while (reader.MoveNext())
        {
            options.Add((reader.Code, reader.Data.ToArray()));
        }
        Assert.False(reader.Truncated);
        return options;
    }

    [Fact]
    public void ParsesCapturedDiscover()
    {
        var discover = Frames.Dhcp(Captures.DhcpDiscover);
        Assert.Equal(DhcpOpcode.BootRequest, discover.Op);
        Assert.Equal(TransactionId, discover.TransactionId);
        Assert.Equal(0, discover.Seconds);
        Assert.False(discover.Broadcast);
        Assert.Equal(Ipv4Address.Any, discover.ClientAddress);
        Assert.Equal(Ipv4Address.Any, discover.YourAddress);
        Assert.Equal(Frames.SideA, discover.ClientHardware);
        Assert.Equal(DhcpMessageType.Discover, discover.MessageType);
        Assert.False(discover.TryGetOption(DhcpOption.RequestedAddress, out _));

        Assert.True(discover.TryGetOption(DhcpOption.MaxMessageSize, out var maxSize));
        Assert.Equal(576, BinaryPrimitives.ReadUInt16BigEndian(maxSize));
        Assert.True(discover.TryGetOption(DhcpOption.ParameterRequestList, out var parameters));
        Assert.Equal(ParameterList, parameters.ToArray());
        Assert.True(discover.TryGetOption(DhcpOption.HostName, out var hostName));
        Assert.Equal("usernet-test"u8.ToArray(), hostName.ToArray());
        // RFC 2132 §9.14: hardware type 1, then the MAC address.
        Assert.True(discover.TryGetOption(DhcpOption.ClientIdentifier, out var clientId));
        Assert.Equal(Convert.FromHexString("0102180500000a"), clientId.ToArray());

        Assert.Equal(
            [DhcpOption.MessageType, DhcpOption.MaxMessageSize, DhcpOption.ParameterRequestList, DhcpOption.HostName, 60, DhcpOption.ClientIdentifier],
            OptionsOf(discover).Select(o => o.Code));
    }

    [Fact]
    public void ParsesCapturedRequest()
    {
        var request = Frames.Dhcp(Captures.DhcpRequest);
        Assert.Equal(DhcpOpcode.BootRequest, request.Op);
        Assert.Equal(TransactionId, request.TransactionId);
        Assert.Equal(DhcpMessageType.Request, request.MessageType);
        // RFC 2131 §4.3.2, SELECTING state: the offered address and the chosen server.
        Assert.True(request.TryGetOption(DhcpOption.RequestedAddress, out var requested));
        Assert.Equal(Offered, Ipv4Address.Read(requested));
        Assert.True(request.TryGetOption(DhcpOption.ServerIdentifier, out var serverId));
        Assert.Equal(Server, Ipv4Address.Read(serverId));
        Assert.Equal(Ipv4Address.Any, request.ClientAddress);
        // udhcpc sends no padding after End: the message is 306 bytes, over the 300 of BOOTP.
        Assert.Equal(306, request.Buffer.Length);
    }

    [Theory]
    [InlineData(nameof(Captures.DhcpOffer), (byte)DhcpMessageType.Offer)]
    [InlineData(nameof(Captures.DhcpAck), (byte)DhcpMessageType.Ack)]
    public void ParsesCapturedServerReplies(string name, byte type)
    {
        var reply = Frames.Dhcp(Frames.Captured(name));
        Assert.Equal(DhcpOpcode.BootReply, reply.Op);
        Assert.Equal(TransactionId, reply.TransactionId);
        Assert.Equal((DhcpMessageType)type, reply.MessageType);
        Assert.Equal(Offered, reply.YourAddress);
        Assert.Equal(Server, reply.ServerAddress);
        Assert.Equal(Ipv4Address.Any, reply.RelayAddress);
        Assert.Equal(Frames.SideA, reply.ClientHardware);

        Assert.True(reply.TryGetOption(DhcpOption.LeaseTime, out var lease));
        Assert.Equal(3600u, BinaryPrimitives.ReadUInt32BigEndian(lease));
        Assert.True(reply.TryGetOption(DhcpOption.RenewalTime, out var renewal));
        Assert.Equal(1800u, BinaryPrimitives.ReadUInt32BigEndian(renewal));
        Assert.True(reply.TryGetOption(DhcpOption.RebindingTime, out var rebinding));
        Assert.Equal(3150u, BinaryPrimitives.ReadUInt32BigEndian(rebinding));
        Assert.True(reply.TryGetOption(DhcpOption.SubnetMask, out var mask));
        Assert.Equal(Ipv4Address.Parse("255.255.255.0"), Ipv4Address.Read(mask));
        Assert.True(reply.TryGetOption(DhcpOption.BroadcastAddress, out var broadcast));
        Assert.Equal(Ipv4Address.Parse("198.18.6.255"), Ipv4Address.Read(broadcast));
        Assert.True(reply.TryGetOption(DhcpOption.Router, out var router));
        Assert.Equal(Server, Ipv4Address.Read(router));
        // dnsmasq ran with --port=0, so it offers no DNS server.
        Assert.False(reply.TryGetOption(DhcpOption.DomainNameServer, out _));
    }

    [Fact]
    public void WriteRequestRebuildsCapturedDiscover()
    {
        byte[] captured = DhcpOf(Captures.DhcpDiscover);
        byte[] rebuilt = new byte[captured.Length];
        DhcpMessage.WriteRequest(rebuilt, TransactionId, Frames.SideA, Ipv4Address.Any, broadcast: false);
        var options = new DhcpOptionWriter(rebuilt.AsSpan(DhcpMessage.FixedLength));
        Assert.True(options.WriteByte(DhcpOption.MessageType, (byte)DhcpMessageType.Discover));
        Assert.True(options.WriteUInt16(DhcpOption.MaxMessageSize, 576));
        Assert.True(options.Write(DhcpOption.ParameterRequestList, ParameterList));
        Assert.True(options.Write(DhcpOption.HostName, "usernet-test"u8));
        Assert.True(options.Write(60, "udhcp 1.35.0"u8));
        Assert.True(options.Write(DhcpOption.ClientIdentifier, Convert.FromHexString("0102180500000a")));
        options.WriteEnd();
        // The rest up to udhcpc's 300 bytes stays zero: Pad.
        Assert.Equal(captured, rebuilt);
    }

    [Theory]
    [InlineData(nameof(Captures.DhcpDiscover), nameof(Captures.DhcpOffer), (byte)DhcpMessageType.Offer)]
    [InlineData(nameof(Captures.DhcpRequest), nameof(Captures.DhcpAck), (byte)DhcpMessageType.Ack)]
    public void WriteReplyRebuildsWhatDnsmasqAnswered(string requestName, string replyName, byte type)
    {
        var request = Frames.Dhcp(Frames.Captured(requestName));
        byte[] captured = DhcpOf(Frames.Captured(replyName));

        byte[] rebuilt = new byte[captured.Length];
        var reply = DhcpMessage.WriteReply(rebuilt, request, Offered, Server);
        Assert.Equal(captured.Length - DhcpMessage.FixedLength, reply.Options.Length);
        var options = new DhcpOptionWriter(reply.Options);
        Assert.True(options.WriteByte(DhcpOption.MessageType, type));
        Assert.True(options.WriteAddress(DhcpOption.ServerIdentifier, Server));
        Assert.True(options.WriteUInt32(DhcpOption.LeaseTime, 3600));
        Assert.True(options.WriteUInt32(DhcpOption.RenewalTime, 1800));
        Assert.True(options.WriteUInt32(DhcpOption.RebindingTime, 3150));
        Assert.True(options.WriteAddress(DhcpOption.SubnetMask, Ipv4Address.Parse("255.255.255.0")));
        Assert.True(options.WriteAddress(DhcpOption.BroadcastAddress, Ipv4Address.Parse("198.18.6.255")));
        Assert.True(options.WriteAddresses(DhcpOption.Router, [Server]));
        if (request.TryGetOption(DhcpOption.HostName, out var hostName) && type == (byte)DhcpMessageType.Ack)
        {
            // dnsmasq echoes the client's host name in the ACK (RFC 2132 §3.14).
            Assert.True(options.Write(DhcpOption.HostName, hostName));
        }
        options.WriteEnd();
        Assert.Equal(captured, rebuilt);
    }

    [Fact]
    public void BuiltReplyParses()
    {
        var discover = Frames.Dhcp(Captures.DhcpDiscover);
        byte[] buffer = new byte[576];
        var reply = DhcpMessage.WriteReply(buffer, discover, Ipv4Address.Parse("192.168.65.3"), Ipv4Address.Parse("192.168.65.1"));
        var options = new DhcpOptionWriter(reply.Options);
        Assert.True(options.WriteByte(DhcpOption.MessageType, (byte)DhcpMessageType.Offer));
        Assert.True(options.WriteAddress(DhcpOption.ServerIdentifier, Ipv4Address.Parse("192.168.65.1")));
        Assert.True(options.WriteAddresses(DhcpOption.DomainNameServer, [Ipv4Address.Parse("192.168.65.1"), Ipv4Address.Parse("192.168.65.254")]));
        Assert.True(options.WriteUInt16(DhcpOption.InterfaceMtu, 1500));
        Assert.True(options.Write(DhcpOption.DomainName, "docker.internal"u8));
        options.WriteEnd();
        int length = DhcpMessage.FixedLength + options.Length;

        Assert.True(DhcpMessage.TryParse(buffer.AsSpan(0, length), out var parsed));
        Assert.Equal(DhcpOpcode.BootReply, parsed.Op);
        Assert.Equal(TransactionId, parsed.TransactionId);
        Assert.Equal(Frames.SideA, parsed.ClientHardware);
        Assert.Equal(Ipv4Address.Parse("192.168.65.3"), parsed.YourAddress);
        Assert.Equal(DhcpMessageType.Offer, parsed.MessageType);
        Assert.True(parsed.TryGetOption(DhcpOption.DomainNameServer, out var dns));
        Assert.Equal(Convert.FromHexString("C0A84101C0A841FE"), dns.ToArray());
        Assert.True(parsed.TryGetOption(DhcpOption.InterfaceMtu, out var mtu));
        Assert.Equal(1500, BinaryPrimitives.ReadUInt16BigEndian(mtu));
        Assert.True(parsed.TryGetOption(DhcpOption.DomainName, out var domain));
        Assert.Equal("docker.internal"u8.ToArray(), domain.ToArray());
        Assert.Equal(5, OptionsOf(parsed).Count);
        Assert.Equal(DhcpOption.End, buffer[length - 1]);
    }

    [Fact]
    public void WriteReplyMayReuseTheRequestsBuffer()
    {
        // Answering in the buffer the request came in must not lose the fields it copies.
        byte[] buffer = DhcpOf(Captures.DhcpDiscover);
        Assert.True(DhcpMessage.TryParse(buffer, out var discover));
        var reply = DhcpMessage.WriteReply(buffer, discover, Offered, Server);
        Assert.Equal(TransactionId, reply.TransactionId);
        Assert.Equal(Frames.SideA, reply.ClientHardware);
        Assert.Equal(DhcpOpcode.BootReply, reply.Op);
        Assert.Equal(Offered, reply.YourAddress);
    }

    [Fact]
    public void WriteRequestSetsBroadcastAndClientAddress()
    {
        byte[] buffer = new byte[300];
        var message = DhcpMessage.WriteRequest(buffer, 7, Frames.SideA, Offered, broadcast: true);
        Assert.True(message.Broadcast);
        Assert.Equal(DhcpMessage.FlagBroadcast, message.Flags);
        Assert.Equal(Offered, message.ClientAddress);
        Assert.True(DhcpMessage.TryParse(buffer, out _));
    }

    [Fact]
    public void RejectsEveryLengthBelowTheFixedPart()
    {
        byte[] dhcp = DhcpOf(Captures.DhcpDiscover);
        for (int length = 0; length < DhcpMessage.FixedLength; length++)
        {
            Assert.False(DhcpMessage.TryParse(dhcp.AsSpan(0, length), out _));
        }
        // Only the cookie and no options: valid, with no message type.
        Assert.True(DhcpMessage.TryParse(dhcp.AsSpan(0, DhcpMessage.FixedLength), out var bare));
        Assert.Equal(DhcpMessageType.None, bare.MessageType);
    }

    [Theory]
    [InlineData(236)]
    [InlineData(237)]
    [InlineData(238)]
    [InlineData(239)]
    public void RejectsAMissingMagicCookie(int offset)
    {
        // RFC 2131 §3: without 99.130.83.99 this is plain BOOTP, which the server does not speak.
        byte[] dhcp = DhcpOf(Captures.DhcpDiscover);
        dhcp[offset] ^= 0xFF;
        Assert.False(DhcpMessage.TryParse(dhcp, out _));
    }

    [Theory]
    [InlineData(1, 6)]  // hardware type IEEE 802
    [InlineData(2, 16)] // hardware length
    [InlineData(2, 0)]
    public void RejectsOtherHardware(int offset, byte value)
    {
        byte[] dhcp = DhcpOf(Captures.DhcpDiscover);
        dhcp[offset] = value;
        Assert.False(DhcpMessage.TryParse(dhcp, out _));
    }

    [Fact]
    public void ReaderStopsCleanlyAtEveryCutOfTheOptions()
    {
        // Cut the captured REQUEST's options everywhere: the reader yields the options that are
        // whole, flags Truncated exactly when the cut falls inside one, and never throws.
        byte[] options = DhcpOf(Captures.DhcpRequest)[DhcpMessage.FixedLength..];
        var whole = new List<(int Start, int End, byte Code)>();
        for (int at = 0; options[at] != DhcpOption.End; at += 2 + options[at + 1])
        {
            whole.Add((at, at + 2 + options[at + 1], options[at]));
        }
        Assert.Equal(8, whole.Count);

        for (int cut = 0; cut <= options.Length; cut++)
        {
            var reader = new DhcpOptionReader(options.AsSpan(0, cut));
            var codes = new List<byte>();
            while (reader.MoveNext())
            {
                codes.Add(reader.Code);
            }
            var expected = whole.Where(o => o.End <= cut).Select(o => o.Code).ToList();
            bool insideAnOption = whole.Any(o => o.Start < cut && cut < o.End);
            Assert.Equal(expected, codes);
            Assert.Equal(insideAnOption, reader.Truncated);
        }
    }

    [Theory]
    [InlineData("35", 0)]         // code, no length
    [InlineData("3501", 0)]       // length 1, no data
    [InlineData("350105330400", 1)] // lease time with 1 of its 4 bytes
    [InlineData("3702", 0)]
    public void ReaderFlagsATruncatedOption(string hex, int wholeOptions)
    {
        var reader = new DhcpOptionReader(Convert.FromHexString(hex));
        int count = 0;
        while (reader.MoveNext())
        {
            count++;
        }
        Assert.Equal(wholeOptions, count);
        Assert.True(reader.Truncated);
        Assert.False(reader.MoveNext());
    }

    [Fact]
    public void ReaderSkipsPadAndStopsAtEnd()
    {
        var reader = new DhcpOptionReader(Convert.FromHexString("0000350105000000ff3501023501"));
        Assert.True(reader.MoveNext());
        Assert.Equal(DhcpOption.MessageType, reader.Code);
        Assert.Equal([5], reader.Data.ToArray());
        Assert.False(reader.MoveNext());
        Assert.False(reader.Truncated);
    }

    [Fact]
    public void ReaderSurvivesGarbage()
    {
        var random = new Random(2131);
        byte[] bytes = new byte[300];
        for (int round = 0; round < 2000; round++)
        {
            var span = bytes.AsSpan(0, random.Next(0, bytes.Length));
            random.NextBytes(span);
            var reader = new DhcpOptionReader(span);
            int count = 0;
            while (reader.MoveNext())
            {
                Assert.True(reader.Data.Length <= 255);
                count++;
            }
            // Each option takes at least two bytes, so the walk always ends.
            Assert.True(count <= span.Length / 2);
        }
    }

    [Fact]
    public void MessageTypeNeedsOneByte()
    {
        byte[] dhcp = DhcpOf(Captures.DhcpDiscover);
        Assert.True(DhcpMessage.TryParse(dhcp, out var message));
        // Make option 53 two bytes long by eating into the next option: the type is no longer read.
        dhcp[DhcpMessage.FixedLength + 1] = 2;
        Assert.Equal(DhcpMessageType.None, message.MessageType);
    }

    [Fact]
    public void TryGetOptionFindsTheFirst()
    {
        byte[] dhcp = new byte[DhcpMessage.FixedLength + 8];
        DhcpMessage.WriteRequest(dhcp, 1, Frames.SideA, Ipv4Address.Any, broadcast: false);
        Convert.FromHexString("0c01610c0162ff00").CopyTo(dhcp, DhcpMessage.FixedLength);
        Assert.True(DhcpMessage.TryParse(dhcp, out var message));
        Assert.True(message.TryGetOption(DhcpOption.HostName, out var name));
        Assert.Equal("a"u8.ToArray(), name.ToArray());
        Assert.False(message.TryGetOption(DhcpOption.DomainName, out var missing));
        Assert.True(missing.IsEmpty);
    }

    [Fact]
    public void WriterStopsAtWhatDoesNotFitAndKeepsRoomForEnd()
    {
        byte[] buffer = new byte[10];
        var writer = new DhcpOptionWriter(buffer);
        Assert.True(writer.WriteUInt32(DhcpOption.LeaseTime, 60));  // 6 bytes
        Assert.False(writer.Truncated);
        Assert.False(writer.WriteUInt16(DhcpOption.InterfaceMtu, 1500)); // 4 more leaves no room for End
        Assert.True(writer.Truncated);
        // The options stay a prefix of what was asked: nothing after the first refusal, even what would fit.
        Assert.False(writer.WriteByte(DhcpOption.MessageType, 2));
        Assert.Equal(6, writer.Length);
        writer.WriteEnd();
        Assert.Equal(7, writer.Length);
        Assert.Equal(Convert.FromHexString("33040000003cff000000"), buffer);
    }

    [Fact]
    public void WriterRefusesDataLongerThan255()
    {
        var writer = new DhcpOptionWriter(new byte[1000]);
        Assert.False(writer.Write(DhcpOption.DomainSearch, new byte[256]));
        Assert.Equal(0, writer.Length);
        Assert.True(writer.Truncated);

        writer = new DhcpOptionWriter(new byte[1000]);
        Assert.True(writer.Write(DhcpOption.DomainSearch, new byte[255]));
        Assert.Equal(257, writer.Length);
    }

    [Fact]
    public void WriterNeverWritesPastItsBuffer()
    {
        // End included: a buffer with no room at all takes nothing, and says so.
        var writer = new DhcpOptionWriter([]);
        Assert.False(writer.WriteByte(DhcpOption.MessageType, 1));
        writer.WriteEnd();
        Assert.Equal(0, writer.Length);
        Assert.True(writer.Truncated);

        byte[] buffer = new byte[40];
        writer = new DhcpOptionWriter(buffer.AsSpan(0, 30));
        for (int i = 0; i < 20; i++)
        {
            writer.WriteUInt32(DhcpOption.LeaseTime, 60);
        }
        writer.WriteEnd();
        Assert.Equal(25, writer.Length);
        Assert.Equal(DhcpOption.End, buffer[24]);
        Assert.All(buffer[30..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void WriterKeepsAtMost63Addresses()
    {
        // 63 addresses are 252 bytes, the most that one option's length byte can hold.
        var addresses = Enumerable.Range(1, 70).Select(i => Ipv4Address.FromBytes(198, 18, 0, (byte)i)).ToArray();
        byte[] buffer = new byte[300];
        var writer = new DhcpOptionWriter(buffer);
        Assert.True(writer.WriteAddresses(DhcpOption.DomainNameServer, addresses));
        Assert.Equal(252, buffer[1]);
        Assert.Equal(addresses[62], Ipv4Address.Read(buffer.AsSpan(2 + (62 * 4))));
    }
}
