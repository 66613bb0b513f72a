using Usernet.Platform;
using Usernet.Stack;
using Usernet.Stack.Icmp;
using Usernet.Stack.Udp;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>
/// A <see cref="NetworkStack"/> with UDP and ICMP echo NAT over <see cref="FakeDatagramSocket"/>s:
/// guest frames go in through one link, every frame the stack sends is kept, and time moves
/// only when the test moves it, firing the timers on the way as the loop would.
/// </summary>
internal sealed class NatHarness
{
    public static readonly Instant Start = Instant.FromMilliseconds(1_000);

    public static readonly Ipv6Address GuestV6 = Ipv6Address.Parse("fdc4:f303:9324::3");

    public NatHarness(StackOptions? stackOptions = null, UdpOptions? udpOptions = null)
    {
        var udp = udpOptions ?? new UdpOptions();
        UdpNat? nat = null;
        IcmpEchoNat? ping = null;
        var harness = new StackHarness(stackOptions, build: builder =>
        {
            nat = builder.Udp(s => new UdpNat(s, Timers, Factory, udp));
            ping = builder.Echo(s => new IcmpEchoNat(s, Timers, Factory, udp.IdleTimeout));
        }, timers: Timers);
        (Stack, Link, Sent, Udp, Ping) = (harness.Stack, harness.Link, harness.Sent, nat!, ping!);
    }

    /// <summary>
    /// Destinations <see cref="EgressRule"/> refuses a guest's new flow, with the hostLoopback
    /// setting under which each is tried: the host address with it off, and the host's loopback
    /// named directly with it on (refused all the same), v4-mapped in an IPv6 packet too.
    /// </summary>
    public static TheoryData<string, bool> RefusedDestinations() => new()
    {
        { "192.168.65.254", false },
        { "fdc4:f303:9324::254", false },
        { "127.0.0.1", true },
        { "127.0.0.53", true },
        { "0.1.2.3", true },
        { "::1", true },
        { "::ffff:127.0.0.1", true },
    };

    public NetworkStack Stack { get; }

    public RecordingLink Link { get; }

    public RecordingTransmitter Sent { get; }

    public TimerQueue Timers { get; } = new();

    public FakeDatagramFactory Factory { get; } = new();

    public UdpNat Udp { get; }

    public IcmpEchoNat Ping { get; }

    public StackCounters Counters => Stack.Counters;

    public Instant Now { get; private set; } = Start;

    /// <summary>Hands <paramref name="frame"/> to the stack and returns what it sent in answer.</summary>
    public List<byte[]> Answer(byte[] frame)
    {
        Stack.Receive(frame, Link, Now);
        return Sent.Take();
    }

    /// <summary>
    /// Hands in the guest's <paramref name="frame"/> and checks that <see cref="EgressRule"/>
    /// refused it: no host socket, "administratively prohibited" from the gateway quoting the
    /// packet as sent, and the drop counted.
    /// </summary>
    public void AssertRefused(byte[] frame, IpAddress guest)
    {
        var icmp = IcmpOf(Assert.Single(Answer(frame)));
        Assert.Empty(Factory.Udp);
        Assert.Empty(Factory.Ping);
        Assert.Equal((Stack.Options.GatewayOf(guest), guest), (icmp.Source, icmp.Destination));
        Assert.Equal(IcmpError.Prohibited(guest), new IcmpError(icmp.Type, icmp.Code));
        Assert.Equal(frame.AsSpan(EthernetFrame.HeaderLength).ToArray(), icmp.Quote);
        Assert.Equal(1, Counters.Dropped(DropReason.EgressRefused));
    }

    /// <summary>Hop limit exceeded at a router on the path, as a host socket of the family reports it.</summary>
    public static HostIcmpError TimeExceeded(bool v4, IpEndpoint destination, ushort quotedSequence = 0) => v4
        ? new(IcmpV4Type.TimeExceeded, IcmpV4Code.TtlExceeded, IpAddress.Parse("198.18.0.9"), destination, 0, quotedSequence)
        : new(Icmpv6Type.TimeExceeded, Icmpv6Code.HopLimitExceeded, IpAddress.Parse("2001:db8::9"), destination, 0, quotedSequence);

    /// <summary>
    /// Checks the error the guest got for <paramref name="error"/>: from the router, of its type
    /// and code, quoting what RFC 792 asks for at least, the IP header (guest to
    /// <paramref name="destination"/>, <paramref name="protocol"/>) and 8 bytes, which it returns.
    /// </summary>
    public byte[] AssertRelayed(HostIcmpError error, IpAddress guest, IpAddress destination, byte protocol)
    {
        var icmp = IcmpOf(Assert.Single(Sent.Take()));
        Assert.Equal((error.Offender, guest, error.Type, error.Code), (icmp.Source, icmp.Destination, icmp.Type, icmp.Code));
        bool v4 = guest.IsV4;
        int header = v4 ? Ipv4Packet.MinHeaderLength : Ipv6Packet.HeaderLength;
        Assert.Equal(header + 8, icmp.Quote.Length);
        var quotedSource = v4 ? (IpAddress)Ipv4Address.Read(icmp.Quote.AsSpan(12)) : Ipv6Address.Read(icmp.Quote.AsSpan(8));
        var quotedDestination = v4 ? (IpAddress)Ipv4Address.Read(icmp.Quote.AsSpan(16)) : Ipv6Address.Read(icmp.Quote.AsSpan(24));
        Assert.Equal((guest, destination), (quotedSource, quotedDestination));
        Assert.Equal(protocol, v4 ? icmp.Quote[9] : icmp.Quote[6]);
        return icmp.Quote[header..];
    }

    /// <summary>Moves time on, firing every timer due on the way.</summary>
    public void Advance(TimeSpan span)
    {
        var until = Now + span;
        for (int wakeups = 0; Timers.NextDue <= until; wakeups++)
        {
            Assert.True(wakeups < 10_000, "the timers never settle");
            if (Timers.NextDue > Now)
            {
                Now = Timers.NextDue;
            }
            Timers.RunDue(Now);
        }
        Now = until;
    }

    /// <summary>A UDP datagram from the guest (<paramref name="mac"/>, else the test guest's), of either family (by the source's).</summary>
    public static byte[] UdpFrame(IpEndpoint source, IpEndpoint destination, ReadOnlySpan<byte> payload, MacAddress? mac = null)
    {
        var from = mac ?? TestFrames.GuestMac;
        if (source.Address.IsV4)
        {
            return TestFrames.Udp(from, TestFrames.StackMac, source.Address.V4, destination.Address.V4, source.Port, destination.Port, payload);
        }
        byte[] udp = new byte[UdpDatagram.HeaderLength + payload.Length];
        payload.CopyTo(udp.AsSpan(UdpDatagram.HeaderLength));
        UdpDatagram.WriteHeader(udp, source.Port, destination.Port, payload.Length);
        new UdpDatagram(udp).FillChecksum(InternetChecksum.PseudoHeaderV6(source.Address.V6, destination.Address.V6, IpProtocol.Udp, udp.Length));
        return TestFrames.Ipv6(from, source.Address.V6, destination.Address.V6, IpProtocol.Udp, udp);
    }

    /// <summary>An echo request from the guest, ICMP or ICMPv6 by the source's family.</summary>
    public static byte[] EchoFrame(IpAddress source, IpAddress destination, ushort id, ushort sequence, byte hopLimit = 64)
    {
        if (source.IsV4)
        {
            return TestFrames.IcmpEcho(TestFrames.GuestMac, source.V4, destination.V4, id, sequence, ttl: hopLimit);
        }
        byte[] icmp = new byte[Icmpv6Message.HeaderLength + 16];
        var message = new Icmpv6Message(icmp) { Type = Icmpv6Type.EchoRequest, Code = 0, Identifier = id, SequenceNumber = sequence };
        message.FillChecksum(InternetChecksum.PseudoHeaderV6(source.V6, destination.V6, IpProtocol.Icmpv6, icmp.Length));
        return TestFrames.Ipv6(TestFrames.GuestMac, source.V6, destination.V6, IpProtocol.Icmpv6, icmp, hopLimit);
    }

    /// <summary>The UDP datagram of a frame the stack sent, of either family, with its checksum checked.</summary>
    public static (IpEndpoint Source, IpEndpoint Destination, byte[] Payload) UdpOf(byte[] frame)
    {
        Assert.True(EthernetFrame.TryParse(frame, out var ethernet));
        if (ethernet.EtherType == EtherType.Ipv4)
        {
            var ip = Tests.Wire.Frames.Ipv4(frame);
            var udp = Tests.Wire.Frames.Udp(frame);
            Assert.True(udp.VerifyChecksum(ip.PseudoHeaderSum(udp.Length), isIpv6: false));
            return (new IpEndpoint(ip.Source, udp.SourcePort), new IpEndpoint(ip.Destination, udp.DestinationPort), udp.Payload.ToArray());
        }
        Assert.Equal(Ipv6ParseError.None, Ipv6Packet.TryParse(ethernet.Payload, out var ip6));
        Assert.Equal(IpProtocol.Udp, ip6.NextHeader);
        Assert.True(UdpDatagram.TryParse(ip6.Payload, out var udp6));
        Assert.True(udp6.VerifyChecksum(InternetChecksum.PseudoHeaderV6(ip6.Source, ip6.Destination, IpProtocol.Udp, udp6.Length), isIpv6: true));
        return (new IpEndpoint(ip6.Source, udp6.SourcePort), new IpEndpoint(ip6.Destination, udp6.DestinationPort), udp6.Payload.ToArray());
    }

    /// <summary>The ICMP or ICMPv6 message of a frame the stack sent, checked, with the IP addresses around it.</summary>
    public static (IpAddress Source, IpAddress Destination, byte Type, byte Code, uint Word, byte[] Quote) IcmpOf(byte[] frame)
    {
        Assert.True(EthernetFrame.TryParse(frame, out var ethernet));
        if (ethernet.EtherType == EtherType.Ipv4)
        {
            var ip = Tests.Wire.Frames.Ipv4(frame);
            var icmp = Tests.Wire.Frames.Icmp(frame);
            var bytes = icmp.Buffer;
            uint word = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]);
            return (ip.Source, ip.Destination, icmp.Type, icmp.Code, word, bytes[IcmpV4Message.HeaderLength..].ToArray());
        }
        Assert.Equal(EtherType.Ipv6, ethernet.EtherType);
        Assert.Equal(Ipv6ParseError.None, Ipv6Packet.TryParse(ethernet.Payload, out var ip6));
        Assert.Equal(IpProtocol.Icmpv6, ip6.NextHeader);
        var payload = ip6.Payload;
        Assert.True(Icmpv6Message.TryParse(payload, InternetChecksum.PseudoHeaderV6(ip6.Source, ip6.Destination, IpProtocol.Icmpv6, payload.Length), out var message, out bool valid));
        Assert.True(valid);
        return (ip6.Source, ip6.Destination, message.Type, message.Code, message.Word, payload[Icmpv6Message.HeaderLength..].ToArray());
    }
}
