using System.Buffers.Binary;
using Usernet.Wire;

namespace Usernet.Fuzz;

/// <summary>
/// The stack's initial sequence number of each TCP connection, read off the SYNs and SYN-ACKs
/// it sends the guests. The stack draws it at random, so an input could never acknowledge
/// what the stack sent; with it an input's acknowledgment number can be an offset past the
/// stack's SYN instead, and the fuzzer reaches the established states. Frames are read by
/// fixed offsets (Ethernet, IPv4 or IPv6 without extension headers, TCP), before any check.
/// </summary>
internal sealed class StackSequences
{
    private const int Ethernet = 14;
    private const byte Syn = 0x02;

    private readonly Dictionary<(UInt128 Guest, UInt128 Remote, uint Ports), uint> _initial = new();

    /// <summary>A frame the stack sent towards a guest.</summary>
    public void Observe(ReadOnlySpan<byte> frame)
    {
        if (TryReadTcp(frame, out var source, out var destination, out var tcp) && tcp.Length >= 20 && (tcp[13] & Syn) != 0)
        {
            uint ports = (uint)BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]) << 16 | BinaryPrimitives.ReadUInt16BigEndian(tcp);
            _initial[(destination, source, ports)] = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
        }
    }

    /// <summary>Turns the acknowledgment number of a guest's segment from an offset past the stack's SYN into the number itself.</summary>
    public void MakeAbsolute(Span<byte> frame)
    {
        if (!TryReadTcp(frame, out var source, out var destination, out _))
        {
            return;
        }
        int at = TcpOffset(frame);
        var tcp = frame[at..];
        if (tcp.Length < 20)
        {
            return;
        }
        uint ports = (uint)BinaryPrimitives.ReadUInt16BigEndian(tcp) << 16 | BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]);
        if (_initial.TryGetValue((source, destination, ports), out uint initial))
        {
            BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]) + initial + 1);
        }
    }

    private static int TcpOffset(ReadOnlySpan<byte> frame) =>
        BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == EtherType.Ipv4 ? Ethernet + (frame[Ethernet] & 0x0F) * 4 : Ethernet + Ipv6Packet.HeaderLength;

    /// <summary>The addresses (IPv4 as the low 32 bits) and the TCP header and payload of an unfragmented TCP packet.</summary>
    private static bool TryReadTcp(ReadOnlySpan<byte> frame, out UInt128 source, out UInt128 destination, out ReadOnlySpan<byte> tcp)
    {
        source = destination = 0;
        tcp = default;
        if (frame.Length < Ethernet + Ipv6Packet.HeaderLength)
        {
            return false;
        }
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        var ip = frame[Ethernet..];
        if (type == EtherType.Ipv4 && ip[9] == IpProtocol.Tcp && (BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x3FFF) == 0)
        {
            source = BinaryPrimitives.ReadUInt32BigEndian(ip[12..]);
            destination = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
        }
        else if (type == EtherType.Ipv6 && ip[6] == IpProtocol.Tcp)
        {
            source = BinaryPrimitives.ReadUInt128BigEndian(ip[8..]);
            destination = BinaryPrimitives.ReadUInt128BigEndian(ip[24..]);
        }
        else
        {
            return false;
        }
        int at = TcpOffset(frame);
        if (at > frame.Length)
        {
            return false;
        }
        tcp = frame[at..];
        return true;
    }
}
