using System.Buffers.Binary;
using Usernet.Services.Dhcp6;
using Usernet.Tests.Wire;
using Usernet.Wire;

namespace Usernet.Tests.Services.Dhcp6;

public sealed class Dhcpv6ServerTests
{
    private static readonly MacAddress ServerMac = new(0x02_55_4E_00_00_01);
    private static readonly Ipv6Address Gateway = Ipv6Address.Parse("fdc4:f303:9324::1");
    private static readonly Ipv6Address Host = Ipv6Address.Parse("fdc4:f303:9324::254");
    private static readonly Ipv6Address First = Ipv6Address.Parse("fdc4:f303:9324::3");
    private static readonly byte[] ClientA = Convert.FromHexString("00030001020000000a01");
    private static readonly byte[] ClientB = Convert.FromHexString("00030001020000000b02");

    /// <summary>Our DUID-LL (RFC 8415 §11.4): type 3, Ethernet, the gateway's MAC.</summary>
    private static readonly byte[] ServerDuid = Convert.FromHexString("00030001" + "02554e000001");

    private static Dhcpv6ServerOptions Options(int maxLeases = 250, Ipv6Address? first = null) => new()
    {
        ServerMac = ServerMac,
        ServerAddress = Ipv6Address.Parse("fe80::55:4eff:fe00:1"),
        Prefix = Ipv6Cidr.Parse("fdc4:f303:9324::/64"),
        FirstAddress = first ?? First,
        Excluded = [Gateway, Host],
        DnsServers = [Gateway],
        SearchDomains = ["corp.example"],
        LeaseTime = TimeSpan.FromHours(1),
        MaxLeases = maxLeases,
    };

    /// <summary>A client message: client id, optionally a server id, one IA_NA per IAID (with an address when given), more options.</summary>
    private static byte[] Message(
        Dhcpv6MessageType type, byte[]? clientId = null, byte[]? serverId = null, uint[]? iaids = null,
        Ipv6Address? address = null, bool rapidCommit = false, uint transactionId = 0xABCDEF)
    {
        byte[] buffer = new byte[65_000];
        var message = new Dhcpv6Message(buffer) { Type = type, TransactionId = transactionId };
        var writer = new Dhcpv6OptionWriter(message.Options);
        if (clientId is not null)
        {
            writer.Write(Dhcpv6Option.ClientId, clientId);
        }
        if (serverId is not null)
        {
            writer.Write(Dhcpv6Option.ServerId, serverId);
        }
        writer.Write(Dhcpv6Option.ElapsedTime, [0, 0]);
        foreach (uint iaid in iaids ?? [])
        {
            int ia = writer.Open(Dhcpv6Option.IaNa);
            writer.WriteUInt32(iaid);
            writer.WriteUInt32(0);
            writer.WriteUInt32(0);
            if (address is { } requested)
            {
                int entry = writer.Open(Dhcpv6Option.IaAddress);
                byte[] bytes = new byte[16];
                requested.Write(bytes);
                writer.WriteRaw(bytes);
                writer.WriteUInt32(0);
                writer.WriteUInt32(0);
                writer.Close(entry);
            }
            writer.Close(ia);
        }
        if (rapidCommit)
        {
            writer.Write(Dhcpv6Option.RapidCommit, []);
        }
        return buffer[..(Dhcpv6Message.HeaderLength + writer.Length)];
    }

    /// <summary>What the server answered, parsed, or null for no answer.</summary>
    private sealed record Reply(Dhcpv6MessageType Type, uint TransactionId, Dictionary<ushort, byte[]> Options, List<Ia> Ias)
    {
        public byte[] Option(ushort code) => Assert.Contains(code, (IDictionary<ushort, byte[]>)Options);
    }

    private sealed record Ia(uint Iaid, uint T1, uint T2, Ipv6Address? Address, uint Preferred, uint Valid, ushort? Status);

    private static Reply? Exchange(Dhcpv6Server server, byte[] message)
    {
        byte[] reply = new byte[1500];
        int length = server.Handle(message, reply);
        if (length == 0)
        {
            return null;
        }
        Assert.True(length <= reply.Length);
        Assert.True(Dhcpv6Message.TryParse(reply.AsSpan(0, length), out var parsed));
        var options = new Dictionary<ushort, byte[]>();
        var ias = new List<Ia>();
        var reader = new Dhcpv6OptionReader(parsed.Options);
        while (reader.MoveNext())
        {
            if (reader.Code != Dhcpv6Option.IaNa)
            {
                options[reader.Code] = reader.Data.ToArray();
                continue;
            }
            var data = reader.Data;
            Ipv6Address? address = null;
            uint preferred = 0, valid = 0;
            ushort? status = null;
            var inner = new Dhcpv6OptionReader(data[12..]);
            while (inner.MoveNext())
            {
                if (inner.Code == Dhcpv6Option.IaAddress)
                {
                    address = Ipv6Address.Read(inner.Data);
                    (preferred, valid) = (BinaryPrimitives.ReadUInt32BigEndian(inner.Data[16..]), BinaryPrimitives.ReadUInt32BigEndian(inner.Data[20..]));
                }
                else if (inner.Code == Dhcpv6Option.StatusCode)
                {
                    status = BinaryPrimitives.ReadUInt16BigEndian(inner.Data);
                }
            }
            ias.Add(new Ia(BinaryPrimitives.ReadUInt32BigEndian(data), BinaryPrimitives.ReadUInt32BigEndian(data[4..]),
                BinaryPrimitives.ReadUInt32BigEndian(data[8..]), address, preferred, valid, status));
        }
        return new Reply(parsed.Type, parsed.TransactionId, options, ias);
    }

    private static Reply Answered(Dhcpv6Server server, byte[] message)
    {
        var reply = Exchange(server, message);
        Assert.NotNull(reply);
        return reply;
    }

    private static byte[] CapturedPayload(byte[] frame)
    {
        var ip = Frames.Ipv6(frame);
        Assert.True(UdpDatagram.TryParse(ip.Payload, out var udp));
        return udp.Payload.ToArray();
    }

    [Fact]
    public void DhclientsCapturedSolicitGetsAnAdvertiseWithTheFirstAddress()
    {
        var server = new Dhcpv6Server(Options(), stack: null);
        byte[] solicit = CapturedPayload(Ipv6Captures.Dhcpv6Solicit);
        var advertise = Answered(server, solicit);

        Assert.Equal(Dhcpv6MessageType.Advertise, advertise.Type);
        Assert.Equal(new Dhcpv6Message(solicit).TransactionId, advertise.TransactionId);
        Assert.Equal(ServerDuid, advertise.Option(Dhcpv6Option.ServerId));
        Assert.True(new Dhcpv6Message(solicit).TryGetOption(Dhcpv6Option.ClientId, out var clientId));
        Assert.Equal(clientId.ToArray(), advertise.Option(Dhcpv6Option.ClientId));
        var ia = Assert.Single(advertise.Ias);
        // The client's IAID; T1 and T2 at 0.5 and 0.8 of the lease (RFC 8415 §21.4).
        Assert.Equal(new Ia(0x0500000a, 1800, 2880, First, 3600, 3600, null), ia);
        Assert.Equal(Gateway, Ipv6Address.Read(advertise.Option(Dhcpv6Option.DnsServers)));
        Assert.Equal([4, .. "corp"u8, 7, .. "example"u8, 0], advertise.Option(Dhcpv6Option.DomainList));
        Assert.Equal(1, server.Counters.Replies);
        Assert.Equal(1, server.LeaseCount);
    }

    [Fact]
    public void TheRequestRenewAndRebindOfAClientGetTheAddressItWasOffered()
    {
        var server = new Dhcpv6Server(Options(), stack: null);
        var offered = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [7])).Ias[0].Address;
        foreach (var type in new[] { Dhcpv6MessageType.Request, Dhcpv6MessageType.Renew })
        {
            var reply = Answered(server, Message(type, ClientA, ServerDuid, [7], offered));
            Assert.Equal(Dhcpv6MessageType.Reply, reply.Type);
            Assert.Equal(offered, Assert.Single(reply.Ias).Address);
        }
        // Rebind goes to any server, without a server id (RFC 8415 §18.2.5).
        Assert.Equal(offered, Answered(server, Message(Dhcpv6MessageType.Rebind, ClientA, iaids: [7], address: offered)).Ias[0].Address);
        Assert.Equal(1, server.LeaseCount);
    }

    [Fact]
    public void AddressesAreKeptPerClientAndIaid()
    {
        var server = new Dhcpv6Server(Options(), stack: null);
        var a7 = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [7])).Ias[0].Address;
        var a8 = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [8])).Ias[0].Address;
        var b7 = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientB, iaids: [7])).Ias[0].Address;
        Assert.Equal(3, new[] { a7, a8, b7 }.Distinct().Count());
        var both = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [8, 7]));
        Assert.Equal([a8, a7], both.Ias.Select(ia => ia.Address));
    }

    [Fact]
    public void RapidCommitGetsAReplyAtOnce()
    {
        var server = new Dhcpv6Server(Options(), stack: null);
        var reply = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [1], rapidCommit: true));
        Assert.Equal(Dhcpv6MessageType.Reply, reply.Type);
        Assert.Empty(reply.Option(Dhcpv6Option.RapidCommit));
        Assert.NotNull(reply.Ias[0].Address);
    }

    [Fact]
    public void DhclientsCapturedInformationRequestGetsDnsWithoutAddresses()
    {
        var server = new Dhcpv6Server(Options(), stack: null);
        var reply = Answered(server, CapturedPayload(Ipv6Captures.Dhcpv6InformationRequest));
        Assert.Equal(Dhcpv6MessageType.Reply, reply.Type);
        Assert.Empty(reply.Ias);
        Assert.Equal(Gateway, Ipv6Address.Read(reply.Option(Dhcpv6Option.DnsServers)));
        Assert.Equal(0, server.LeaseCount);
    }

    [Fact]
    public void AMessageForAnotherServerIsIgnored()
    {
        // dhclient's captured Request names dnsmasq's DUID.
        var server = new Dhcpv6Server(Options(), stack: null);
        Assert.Null(Exchange(server, CapturedPayload(Ipv6Captures.Dhcpv6Request)));
        Assert.Equal(1, server.Counters.Ignored);
        Assert.Equal(0, server.LeaseCount);
    }

    [Fact]
    public void ReleaseEndsTheLeaseAndADeclinedAddressIsNeverHandedOutAgain()
    {
        var server = new Dhcpv6Server(Options(maxLeases: 10), stack: null);
        var first = Answered(server, Message(Dhcpv6MessageType.Request, ClientA, ServerDuid, [1])).Ias[0].Address;
        var released = Answered(server, Message(Dhcpv6MessageType.Release, ClientA, ServerDuid, [1], first));
        Assert.Equal(Dhcpv6Status.Success, BinaryPrimitives.ReadUInt16BigEndian(released.Option(Dhcpv6Option.StatusCode)));
        Assert.Equal(0, server.LeaseCount);

        var declined = Answered(server, Message(Dhcpv6MessageType.Request, ClientB, ServerDuid, [1])).Ias[0].Address;
        Answered(server, Message(Dhcpv6MessageType.Decline, ClientB, ServerDuid, [1], declined));
        Assert.Equal(0, server.LeaseCount);
        // The declined address is in use by someone else (RFC 8415 §18.3.8).
        for (uint iaid = 100; iaid < 110; iaid++)
        {
            Assert.NotEqual(declined, Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [iaid])).Ias[0].Address);
        }
    }

    [Theory]
    [InlineData("fdc4:f303:9324::42", Dhcpv6Status.Success)]
    [InlineData("fd00:1::42", Dhcpv6Status.NotOnLink)]
    public void ConfirmSaysWhetherTheAddressIsOnThisLink(string address, ushort status)
    {
        var server = new Dhcpv6Server(Options(), stack: null);
        var reply = Answered(server, Message(Dhcpv6MessageType.Confirm, ClientA, iaids: [1], address: Ipv6Address.Parse(address)));
        Assert.Equal(Dhcpv6MessageType.Reply, reply.Type);
        Assert.Equal(status, BinaryPrimitives.ReadUInt16BigEndian(reply.Option(Dhcpv6Option.StatusCode)));
    }

    [Fact]
    public void AnEmptyPoolAnswersNoAddressesAvailableInTheIa()
    {
        var server = new Dhcpv6Server(Options(maxLeases: 2), stack: null);
        var reply = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [1, 2, 3]));
        Assert.Equal([true, true, false], reply.Ias.Select(ia => ia.Address is not null));
        Assert.Equal(Dhcpv6Status.NoAddressesAvailable, reply.Ias[2].Status);
        Assert.Equal(1, server.Counters.Exhausted);
    }

    [Fact]
    public void TheGatewayHostAndReservedAddressesAreNeverHandedOut()
    {
        var server = new Dhcpv6Server(Options(first: Ipv6Address.Parse("fdc4:f303:9324::1")), stack: null);
        server.Reserve(Ipv6Address.Parse("fdc4:f303:9324::2"));
        var addresses = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [1, 2])).Ias.Select(ia => ia.Address);
        Assert.Equal([Ipv6Address.Parse("fdc4:f303:9324::3"), Ipv6Address.Parse("fdc4:f303:9324::4")], addresses);
    }

    public static TheoryData<string, byte[]> Malformed() => new()
    {
        { "shorter than the header", [1, 2, 3] },
        { "no client id", Message(Dhcpv6MessageType.Solicit, iaids: [1]) },
        { "an empty client id", Message(Dhcpv6MessageType.Solicit, clientId: []) },
        { "a client id over 130 bytes", Message(Dhcpv6MessageType.Solicit, clientId: new byte[131]) },
        { "an option past the end", [.. Message(Dhcpv6MessageType.Solicit, ClientA), 0, 3, 0, 40, 1, 2] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedMessagesAreCountedAndUnanswered(string what, byte[] message)
    {
        var server = new Dhcpv6Server(Options(), stack: null);
        Assert.Null(Exchange(server, message));
        Assert.True(server.Counters.Malformed == 1, what);
    }

    [Theory]
    [InlineData((byte)Dhcpv6MessageType.Advertise)]
    [InlineData((byte)Dhcpv6MessageType.Reply)]
    [InlineData((byte)12)]
    public void ServerMessagesAndRelayMessagesAreIgnored(byte type)
    {
        var server = new Dhcpv6Server(Options(), stack: null);
        Assert.Null(Exchange(server, Message((Dhcpv6MessageType)type, ClientA, iaids: [1])));
        Assert.Equal(1, server.Counters.Ignored);
        Assert.Equal(0, server.LeaseCount);
    }

    [Fact]
    public void AMessageWithManyIasGetsABoundedReplyAndTakesFewAddresses()
    {
        // Issue 12: a few dozen IA_NA in one Solicit wrote the reply past its 1500-byte buffer,
        // and the exception closed the guest's link. Each IA also took an address from the pool.
        var server = new Dhcpv6Server(Options(), stack: null);
        uint[] iaids = [.. Enumerable.Range(1, 200).Select(i => (uint)i)];
        var clientId = new byte[130];
        clientId[1] = 3;

        var reply = Answered(server, Message(Dhcpv6MessageType.Solicit, clientId, iaids: iaids));

        Assert.Equal(Dhcpv6Server.MaxIasPerMessage, reply.Ias.Count);
        Assert.All(reply.Ias, ia => Assert.NotNull(ia.Address));
        Assert.Equal(Dhcpv6Server.MaxIasPerMessage, server.LeaseCount);
        Assert.Equal(200 - Dhcpv6Server.MaxIasPerMessage, server.Counters.IasIgnored);
    }

    [Fact]
    public void AReplyThatCannotFitIsNotSent()
    {
        // More DNS servers than a reply can hold (the search list is capped at 255 bytes already).
        Ipv6Address[] servers = [.. Enumerable.Range(1, 100).Select(i => new Ipv6Address(Gateway.Value + (UInt128)i))];
        var server = new Dhcpv6Server(Options() with { DnsServers = servers }, stack: null);
        Assert.Null(Exchange(server, Message(Dhcpv6MessageType.InformationRequest, ClientA)));
        Assert.Equal(1, server.Counters.TooLarge);
        Assert.Equal(0, server.Counters.Replies);
    }

    [Fact]
    public void DeclinedAddressesHeldOutOfThePoolAreBounded()
    {
        // A guest that takes an address and declines it, again and again, must not grow the
        // server's memory: it remembers as many declined addresses as it has leases, the oldest
        // forgotten first.
        var server = new Dhcpv6Server(Options(maxLeases: 10), stack: null);
        var declined = new List<Ipv6Address?>();
        for (uint iaid = 1; iaid <= 1000; iaid++)
        {
            var address = Answered(server, Message(Dhcpv6MessageType.Request, ClientA, ServerDuid, [iaid])).Ias[0].Address;
            Assert.NotNull(address);
            Answered(server, Message(Dhcpv6MessageType.Decline, ClientA, ServerDuid, [iaid], address));
            declined.Add(address);
        }
        Assert.Equal(10, server.DeclinedCount);
        Assert.Equal(0, server.LeaseCount);
        // The last ten are still held out.
        var next = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientB, iaids: [1])).Ias[0].Address;
        Assert.DoesNotContain(next, declined.TakeLast(10));
    }
}
