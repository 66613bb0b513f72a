using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Fuzz;

/// <summary>
/// Makes a mutated frame's checksums right again, so that the fuzzer's changes reach the code
/// behind the checks instead of dying at them: the IPv4 header checksum, and the TCP, UDP,
/// ICMP or ICMPv6 checksum of an unfragmented packet (IPv6 without extension headers). Fields
/// that do not fit are left as they are: the stack must drop such frames anyway.
/// </summary>
internal static class FrameChecksums
{
    public static void Fix(Span<byte> frame)
    {
        if (!EthernetFrame.TryParse(frame, out var ethernet))
        {
            return;
        }
        var packet = frame[EthernetFrame.HeaderLength..];
        if (ethernet.EtherType == EtherType.Ipv4)
        {
            FixIpv4(packet);
        }
        else if (ethernet.EtherType == EtherType.Ipv6 && packet.Length >= Ipv6Packet.HeaderLength)
        {
            int length = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(packet[4..]), packet.Length - Ipv6Packet.HeaderLength);
            var source = Ipv6Address.Read(packet[8..]);
            var destination = Ipv6Address.Read(packet[24..]);
            byte next = packet[6];
            FixTransport(packet.Slice(Ipv6Packet.HeaderLength, length), next, InternetChecksum.PseudoHeaderV6(source, destination, next, length), v6: true);
        }
    }

    private static void FixIpv4(Span<byte> packet)
    {
        if (packet.Length < Ipv4Packet.MinHeaderLength)
        {
            return;
        }
        int header = (packet[0] & 0x0F) * 4;
        if (header < Ipv4Packet.MinHeaderLength || header > packet.Length)
        {
            return;
        }
        BinaryPrimitives.WriteUInt16BigEndian(packet[10..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(packet[10..], InternetChecksum.Compute(packet[..header]));
        int total = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(packet[2..]), packet.Length);
        bool fragment = (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3FFF) != 0;
        if (total <= header || fragment)
        {
            return;
        }
        byte protocol = packet[9];
        var source = Ipv4Address.Read(packet[12..]);
        var destination = Ipv4Address.Read(packet[16..]);
        var transport = packet[header..total];
        FixTransport(transport, protocol, InternetChecksum.PseudoHeaderV4(source, destination, protocol, transport.Length), v6: false);
    }

    private static void FixTransport(Span<byte> transport, byte protocol, ulong pseudoHeader, bool v6)
    {
        // Where each header keeps its checksum.
        int field = protocol switch
        {
            IpProtocol.Tcp => 16,
            IpProtocol.Udp => 6,
            IpProtocol.Icmp when !v6 => 2,
            IpProtocol.Icmpv6 when v6 => 2,
            _ => -1,
        };
        if (field < 0 || transport.Length < field + 2)
        {
            return;
        }
        BinaryPrimitives.WriteUInt16BigEndian(transport[field..], 0);
        // ICMPv4 has no pseudo-header (RFC 792); the others do (RFC 768, 793, 4443 §2.3).
        ulong sum = protocol == IpProtocol.Icmp ? 0 : pseudoHeader;
        ushort checksum = InternetChecksum.Finish(InternetChecksum.Add(sum, transport));
        // A UDP checksum of 0 means "none"; RFC 768 sends all ones instead.
        BinaryPrimitives.WriteUInt16BigEndian(transport[field..], protocol == IpProtocol.Udp && checksum == 0 ? (ushort)0xFFFF : checksum);
    }
}
