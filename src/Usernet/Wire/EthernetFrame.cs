using System.Buffers.Binary;

namespace Usernet.Wire;

// IEEE 802.3 Ethernet II header:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Destination address (6 octets)                |
// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                               |                                |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+    Source address (6 octets)   +
// |                                                                |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           EtherType           |  Payload ...
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

internal static class EtherType
{
    public const ushort Ipv4 = 0x0800;
    public const ushort Arp = 0x0806;
    public const ushort Vlan = 0x8100;
    public const ushort Ipv6 = 0x86DD;
}

/// <summary>A view over an Ethernet II frame.</summary>
internal readonly ref struct EthernetFrame
{
    private static class Field
    {
        public const int Destination = 0;
        public const int Source = 6;
        public const int EtherType = 12;
    }

    public const int HeaderLength = 14;

    /// <summary>The payload an Ethernet II frame carries without jumbo frames (RFC 894): a VM NIC's MTU unless told otherwise.</summary>
    public const int StandardMtu = 1500;

    private readonly Span<byte> _buffer;

    /// <summary>Wraps a buffer known to hold at least a header (for frames being built).</summary>
    public EthernetFrame(Span<byte> buffer) => _buffer = buffer;

    /// <summary>Checked wrap for untrusted input: after it succeeds no accessor can fail.</summary>
    public static bool TryParse(Span<byte> buffer, out EthernetFrame frame)
    {
        frame = new EthernetFrame(buffer);
        return buffer.Length >= HeaderLength;
    }

    public Span<byte> Buffer => _buffer;

    public MacAddress Destination
    {
        get => MacAddress.Read(_buffer[Field.Destination..]);
        set => value.Write(_buffer[Field.Destination..]);
    }

    public MacAddress Source
    {
        get => MacAddress.Read(_buffer[Field.Source..]);
        set => value.Write(_buffer[Field.Source..]);
    }

    public ushort EtherType
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.EtherType..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.EtherType..], value);
    }

    public Span<byte> Payload => _buffer[HeaderLength..];

    /// <summary>Writes a header at the start of <paramref name="buffer"/>.</summary>
    public static void WriteHeader(Span<byte> buffer, MacAddress destination, MacAddress source, ushort etherType)
    {
        var frame = new EthernetFrame(buffer)
        {
            Destination = destination,
            Source = source,
            EtherType = etherType,
        };
        _ = frame;
    }
}
