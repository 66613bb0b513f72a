using System.Buffers.Binary;
using Usernet.Link;
using Usernet.Services.Dhcp6;
using Usernet.Tests.Support;
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

    private static readonly Instant T0 = Instant.FromMilliseconds(50_000);

    /// <summary>
    /// The server's answer to <paramref name="message"/> at <paramref name="now"/> (by default
    /// <see cref="T0"/>), sent from <paramref name="from"/> (by default the MAC its DUID-LL names,
    /// or a fixed one) on that MAC's own link.
    /// </summary>
    private static Reply? Exchange(Dhcpv6Server server, byte[] message, Instant? now = null, MacAddress? from = null, FrameLink? link = null)
    {
        byte[] reply = new byte[1500];
        var mac = from ?? MacOf(message);
        int length = server.Handle(message, reply, now ?? T0, mac, link ?? TestLinks.Of(mac));
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

    /// <summary>The MAC the message's DUID-LL or DUID-LLT names, as a client's kernel takes it from its NIC; a fixed one for other DUIDs.</summary>
    private static MacAddress MacOf(byte[] message) =>
        Dhcpv6Message.TryParse(message, out var parsed) && parsed.TryGetClientMac(out var mac) ? mac : new MacAddress(0x02_00_00_00_00_99);

    private static Reply Answered(Dhcpv6Server server, byte[] message, Instant? now = null, MacAddress? from = null, FrameLink? link = null)
    {
        var reply = Exchange(server, message, now, from, link);
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
        server.Reserve(new MacAddress(0x02_00_00_00_00_02), Ipv6Address.Parse("fdc4:f303:9324::2"));
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

    private static byte[] ClientNumber(int n) => [0, 3, 0, 1, 2, 0, 0, 0, (byte)(n >> 8), (byte)n];

    [Fact]
    public void AnAdvertisedAddressIsHeldOnlyForTheRequestThatShouldFollow()
    {
        var server = new Dhcpv6Server(Options(), stack: null);
        Assert.NotNull(Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [1]), T0).Ias[0].Address);
        Assert.Equal(1, server.LeaseCount);

        server.Expire(T0 + (Dhcpv6Server.AdvertiseHold - TimeSpan.FromSeconds(1)));
        Assert.Equal(1, server.LeaseCount);
        server.Expire(T0 + Dhcpv6Server.AdvertiseHold);
        Assert.Equal(0, server.LeaseCount);
        Assert.Equal(1, server.Counters.Expired);
    }

    [Fact]
    public void ABoundLeaseLastsTheLeaseTimeFromItsLastRenewal()
    {
        var server = new Dhcpv6Server(Options(), stack: null);
        var leaseTime = TimeSpan.FromHours(1);
        var address = Answered(server, Message(Dhcpv6MessageType.Request, ClientA, ServerDuid, [1]), T0).Ias[0].Address;
        // An Advertise for a bound address does not shorten its lease.
        Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [1]), T0);

        var renewedAt = T0 + (leaseTime - TimeSpan.FromMinutes(1));
        server.Expire(renewedAt);
        Assert.Equal(1, server.LeaseCount);
        Assert.Equal(address, Answered(server, Message(Dhcpv6MessageType.Renew, ClientA, ServerDuid, [1], address), renewedAt).Ias[0].Address);

        server.Expire(renewedAt + (leaseTime - TimeSpan.FromSeconds(1)));
        Assert.Equal(1, server.LeaseCount);
        server.Expire(renewedAt + leaseTime);
        Assert.Equal(0, server.LeaseCount);
    }

    [Fact]
    public void ATableFilledByMadeUpClientsEmptiesAgain()
    {
        // A guest that makes up a DUID per Solicit used to keep the pool empty for good.
        var server = new Dhcpv6Server(Options(maxLeases: 10), stack: null);
        for (int n = 0; n < 10; n++)
        {
            Assert.NotNull(Answered(server, Message(Dhcpv6MessageType.Solicit, ClientNumber(n), iaids: [1]), T0).Ias[0].Address);
        }
        var refused = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientB, iaids: [1]), T0).Ias[0];
        Assert.Equal(Dhcpv6Status.NoAddressesAvailable, refused.Status);

        var later = T0 + Dhcpv6Server.AdvertiseHold;
        Assert.NotNull(Answered(server, Message(Dhcpv6MessageType.Request, ClientB, ServerDuid, [1]), later).Ias[0].Address);
        Assert.Equal(1, server.LeaseCount);
        Assert.Equal(10, server.Counters.Expired);
    }

    [Fact]
    public void TheLeaseOfAGuestWhoseLinkClosedEnds()
    {
        var server = new Dhcpv6Server(Options(), stack: null);
        var address = Answered(server, Message(Dhcpv6MessageType.Request, ClientA, ServerDuid, [1]), T0).Ias[0].Address;
        Answered(server, Message(Dhcpv6MessageType.Request, ClientB, ServerDuid, [1]), T0);
        server.ReleaseGone(address!.Value);
        Assert.Equal(1, server.LeaseCount);
        // The IA gets an address again when it asks (a new one: the old may still be in a neighbour's cache).
        Assert.NotNull(Answered(server, Message(Dhcpv6MessageType.Renew, ClientA, ServerDuid, [1], address), T0).Ias[0].Address);
        Assert.Equal(2, server.LeaseCount);
    }

    private static readonly MacAddress MacOfA = new(0x02_00_00_00_0a_01);
    private static readonly MacAddress Stranger = new(0x02_00_00_00_0e_0e);

    [Theory]
    [InlineData((byte)Dhcpv6MessageType.Release)]
    [InlineData((byte)Dhcpv6MessageType.Decline)]
    [InlineData((byte)Dhcpv6MessageType.Renew)]
    [InlineData((byte)Dhcpv6MessageType.Solicit)]
    public void ADuidThatHoldsALeaseSpeaksOnlyFromItsMac(byte type)
    {
        // The stranger copied A's DUID from A's multicast Solicit.
        var bindings = new AddressBindings();
        var server = new Dhcpv6Server(Options(), stack: null, bindings);
        var address = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [1], rapidCommit: true)).Ias[0].Address!.Value;
        Assert.Equal(MacOfA, bindings.HolderOf(address, T0));

        Assert.Null(Exchange(server, Message((Dhcpv6MessageType)type, ClientA, ServerDuid, [1], address), from: Stranger));
        Assert.Equal(1, server.Counters.NotFromClient);
        Assert.Equal(1, server.LeaseCount);
        Assert.Equal(MacOfA, bindings.HolderOf(address, T0));
        Assert.Equal(address, Answered(server, Message(Dhcpv6MessageType.Renew, ClientA, ServerDuid, [1], address)).Ias[0].Address);
    }

    [Fact]
    public void ADuidWithoutLeasesMayComeFromAnotherMac()
    {
        // A VM that was given a new NIC keeps its DUID; once its lease is released it starts afresh.
        var server = new Dhcpv6Server(Options(), stack: null);
        var address = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [1], rapidCommit: true)).Ias[0].Address;
        Answered(server, Message(Dhcpv6MessageType.Release, ClientA, ServerDuid, [1], address));
        Assert.Equal(Dhcpv6MessageType.Reply, Answered(server, Message(Dhcpv6MessageType.InformationRequest, ClientA), from: Stranger).Type);
        Assert.NotNull(Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [1], rapidCommit: true), from: Stranger).Ias[0].Address);
        Assert.Equal(0, server.Counters.NotFromClient);
    }

    [Fact]
    public void ALeaseIsBoundToItsMacUntilReleasedOrDeclined()
    {
        var bindings = new AddressBindings();
        var server = new Dhcpv6Server(Options(), stack: null, bindings);
        var addresses = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [1, 2], rapidCommit: true)).Ias.Select(ia => ia.Address!.Value).ToArray();
        Assert.All(addresses, address => Assert.Equal(MacOfA, bindings.HolderOf(address, T0)));
        Assert.Equal(BindResult.Taken, bindings.Claim(addresses[0], Stranger, TestLinks.Of(Stranger), T0));

        Answered(server, Message(Dhcpv6MessageType.Release, ClientA, ServerDuid, [1], addresses[0]));
        Answered(server, Message(Dhcpv6MessageType.Decline, ClientA, ServerDuid, [2], addresses[1]));
        Assert.All(addresses, address => Assert.Null(bindings.HolderOf(address, T0)));

        // A Release naming nothing the client holds changes nothing, and is counted.
        Answered(server, Message(Dhcpv6MessageType.Release, ClientA, ServerDuid, [1], addresses[0]));
        Assert.Equal(1, server.Counters.NotOwner);
    }

    [Fact]
    public void AnAdvertisedAddressIsBoundOnlyByTheReplyToTheRequest()
    {
        var bindings = new AddressBindings();
        var server = new Dhcpv6Server(Options(), stack: null, bindings);
        var address = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [1])).Ias[0].Address!.Value;
        Assert.Null(bindings.HolderOf(address, T0));
        Answered(server, Message(Dhcpv6MessageType.Request, ClientA, ServerDuid, [1], address));
        Assert.Equal(MacOfA, bindings.HolderOf(address, T0));
    }

    [Fact]
    public void AnAddressAnotherGuestAlreadyUsesIsNotHandedOut()
    {
        var bindings = new AddressBindings();
        bindings.Claim(First, Stranger, TestLinks.Of(Stranger), T0);
        var server = new Dhcpv6Server(Options(), stack: null, bindings);
        var address = Answered(server, Message(Dhcpv6MessageType.Solicit, ClientA, iaids: [1])).Ias[0].Address;
        Assert.Equal(Ipv6Address.Parse("fdc4:f303:9324::4"), address);
        Assert.Equal(1, server.Counters.InUse);
    }

    [Fact]
    public void TheClientsOfOneLinkHoldAtMostTheirShareOfAddresses()
    {
        var server = new Dhcpv6Server(Options(), stack: null);
        var link = new RecordingLink("one VM making up DUIDs");
        for (int i = 0; i < Dhcpv6Server.MaxLeasesPerLink; i++)
        {
            byte[] duid = Convert.FromHexString($"0003000102000000{i:x2}00");
            Assert.NotNull(Answered(server, Message(Dhcpv6MessageType.Solicit, duid, iaids: [1]), link: link).Ias[0].Address);
        }
        var refused = Answered(server, Message(Dhcpv6MessageType.Solicit, Convert.FromHexString("00030001020000ffff00"), iaids: [1]), link: link);
        Assert.Equal(Dhcpv6Status.NoAddressesAvailable, refused.Ias[0].Status);
        Assert.Equal(1, server.Counters.LinkLimit);
        Assert.NotNull(Answered(server, Message(Dhcpv6MessageType.Solicit, ClientB, iaids: [1])).Ias[0].Address);
    }

    [Fact]
    public void AReservedAddressIsItsGuestsAlone()
    {
        var bindings = new AddressBindings();
        var server = new Dhcpv6Server(Options(), stack: null, bindings);
        server.Reserve(MacOfA, First);
        Assert.Equal(MacOfA, bindings.HolderOf(First, T0 + TimeSpan.FromDays(365)));
        Assert.NotEqual(First, Answered(server, Message(Dhcpv6MessageType.Solicit, ClientB, iaids: [1])).Ias[0].Address);
    }
}
