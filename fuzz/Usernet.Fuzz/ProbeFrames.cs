using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Fuzz;

/// <summary>What the probe guest asks the stack, and which of its questions were answered.</summary>
[Flags]
internal enum ProbeAnswers
{
    None = 0,
    Ping = 1,
    Ping6 = 2,
    Dns = 4,
}

/// <summary>
/// The probe guest's frames: a ping to the gateway over IPv4 and over IPv6, and a DNS query
/// for host.docker.internal, from a MAC and addresses that no seed uses (and that the frame
/// target keeps the input from forging).
/// </summary>
internal static class ProbeFrames
{
    public const ProbeAnswers Everything = ProbeAnswers.Ping | ProbeAnswers.Ping6 | ProbeAnswers.Dns;

    public static readonly MacAddress Mac = new(0x02_50_52_4F_42_45);

    public static readonly Ipv4Address Address = Ipv4Address.Parse("192.168.65.100");

    public static readonly Ipv6Address Address6 = Ipv6Address.Parse("fdc4:f303:9324::100");

    private const ushort Id = 0x5052;
    private const ushort DnsPort = 53;
    private const ushort ClientPort = 5353;

    public static readonly byte[][] All = [Ping(), Ping6(), DnsQuery()];

    public static ProbeAnswers Answered(IEnumerable<byte[]> sent)
    {
        var answered = ProbeAnswers.None;
        foreach (byte[] frame in sent)
        {
            answered |= Classify(frame);
        }
        return answered;
    }

    public static string Describe(ProbeAnswers answered) => answered == ProbeAnswers.None ? "nothing" : answered.ToString();

    private static ProbeAnswers Classify(Span<byte> frame)
    {
        if (!EthernetFrame.TryParse(frame, out var ethernet) || ethernet.Destination != Mac)
        {
            return ProbeAnswers.None;
        }
        if (ethernet.EtherType == EtherType.Ipv4 && Ipv4Packet.TryParse(ethernet.Payload, out var ip) == Ipv4ParseError.None
            && ip.Destination == Address)
        {
            var payload = ip.Payload;
            if (ip.Protocol == IpProtocol.Icmp && IcmpV4Message.TryParse(payload, out var icmp, out bool valid) && valid
                && icmp.Type == IcmpV4Type.EchoReply && icmp.Identifier == Id)
            {
                return ProbeAnswers.Ping;
            }
            if (ip.Protocol == IpProtocol.Udp && UdpDatagram.TryParse(payload, out var udp) && udp.SourcePort == DnsPort
                && udp.DestinationPort == ClientPort && DnsAnswered(udp.Payload))
            {
                return ProbeAnswers.Dns;
            }
        }
        if (ethernet.EtherType == EtherType.Ipv6 && Ipv6Packet.TryParse(ethernet.Payload, out var ip6) == Ipv6ParseError.None
            && ip6.Destination == Address6 && ip6.NextHeader == IpProtocol.Icmpv6)
        {
            var payload = ip6.Payload;
            ulong pseudo = InternetChecksum.PseudoHeaderV6(ip6.Source, ip6.Destination, IpProtocol.Icmpv6, payload.Length);
            if (Icmpv6Message.TryParse(payload, pseudo, out var icmp6, out bool valid6) && valid6
                && icmp6.Type == Icmpv6Type.EchoReply && icmp6.Identifier == Id)
            {
                return ProbeAnswers.Ping6;
            }
        }
        return ProbeAnswers.None;
    }

    /// <summary>Our question's answer: the ID, NOERROR, at least one record.</summary>
    private static bool DnsAnswered(ReadOnlySpan<byte> message) =>
        message.Length >= DnsMessage.HeaderLength
        && BinaryPrimitives.ReadUInt16BigEndian(message) == Id
        && (message[3] & 0x0F) == DnsResponseCode.NoError
        && BinaryPrimitives.ReadUInt16BigEndian(message[6..]) > 0;

    private static byte[] Ping()
    {
        byte[] echo = new byte[IcmpV4Message.HeaderLength + 8];
        echo[0] = IcmpV4Type.EchoRequest;
        BinaryPrimitives.WriteUInt16BigEndian(echo.AsSpan(4), Id);
        return Ipv4(IpProtocol.Icmp, echo);
    }

    private static byte[] Ping6()
    {
        byte[] echo = new byte[Icmpv6Message.HeaderLength + 8];
        echo[0] = Icmpv6Type.EchoRequest;
        BinaryPrimitives.WriteUInt16BigEndian(echo.AsSpan(4), Id);
        byte[] frame = new byte[EthernetFrame.HeaderLength + Ipv6Packet.HeaderLength + echo.Length];
        EthernetFrame.WriteHeader(frame, FuzzNetwork.StackOptions.Mac, Mac, EtherType.Ipv6);
        Ipv6Packet.WriteHeader(frame.AsSpan(EthernetFrame.HeaderLength), Address6, FuzzNetwork.StackOptions.GatewayV6, IpProtocol.Icmpv6, echo.Length, 64);
        echo.CopyTo(frame, EthernetFrame.HeaderLength + Ipv6Packet.HeaderLength);
        FrameChecksums.Fix(frame);
        return frame;
    }

    private static byte[] DnsQuery()
    {
        // host.docker.internal, type A, class IN, recursion desired.
        byte[] query =
        [
            0x50, 0x52, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
            4, (byte)'h', (byte)'o', (byte)'s', (byte)'t',
            6, (byte)'d', (byte)'o', (byte)'c', (byte)'k', (byte)'e', (byte)'r',
            8, (byte)'i', (byte)'n', (byte)'t', (byte)'e', (byte)'r', (byte)'n', (byte)'a', (byte)'l', 0,
            0, 1, 0, 1,
        ];
        byte[] udp = new byte[UdpDatagram.HeaderLength + query.Length];
        UdpDatagram.WriteHeader(udp, ClientPort, DnsPort, query.Length);
        query.CopyTo(udp, UdpDatagram.HeaderLength);
        return Ipv4(IpProtocol.Udp, udp);
    }

    private static byte[] Ipv4(byte protocol, ReadOnlySpan<byte> payload)
    {
        byte[] frame = new byte[EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength + payload.Length];
        EthernetFrame.WriteHeader(frame, FuzzNetwork.StackOptions.Mac, Mac, EtherType.Ipv4);
        Ipv4Packet.WriteHeader(frame.AsSpan(EthernetFrame.HeaderLength), Address, FuzzNetwork.StackOptions.Gateway, protocol, payload.Length, Id);
        payload.CopyTo(frame.AsSpan(EthernetFrame.HeaderLength + Ipv4Packet.MinHeaderLength));
        FrameChecksums.Fix(frame);
        return frame;
    }
}
