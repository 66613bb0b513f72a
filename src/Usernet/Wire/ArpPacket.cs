using System.Buffers.Binary;

namespace Usernet.Wire;

// RFC 826 ARP, for Ethernet hardware and IPv4 protocol addresses:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Hardware type         |         Protocol type         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  HW addr len  | Proto addr len|           Operation           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Sender hardware address (6)                   |
// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                               |  Sender protocol address (4)  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                               |                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ Target hardware address (6)   +
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  Target protocol address (4)                  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

internal enum ArpOperation : ushort
{
    Request = 1,
    Reply = 2,
}

/// <summary>A view over an Ethernet/IPv4 ARP packet.</summary>
internal readonly ref struct ArpPacket
{
    private static class Field
    {
        public const int HardwareType = 0;
        public const int ProtocolType = 2;
        public const int HardwareLength = 4;
        public const int ProtocolLength = 5;
        public const int Operation = 6;
        public const int SenderHardware = 8;
        public const int SenderProtocol = 14;
        public const int TargetHardware = 18;
        public const int TargetProtocol = 24;
    }

    public const int Length = 28;
    private const ushort HardwareEthernet = 1;

    private readonly Span<byte> _buffer;

    public ArpPacket(Span<byte> buffer) => _buffer = buffer;

    /// <summary>Accepts only Ethernet/IPv4 ARP with the right address lengths.</summary>
    public static bool TryParse(Span<byte> buffer, out ArpPacket packet)
    {
        packet = new ArpPacket(buffer);
        return buffer.Length >= Length
            && packet.HardwareType == HardwareEthernet
            && packet.ProtocolType == EtherType.Ipv4
            && buffer[Field.HardwareLength] == MacAddress.Length
            && buffer[Field.ProtocolLength] == Ipv4Address.Length;
    }

    public ushort HardwareType => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.HardwareType..]);

    public ushort ProtocolType => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.ProtocolType..]);

    public ArpOperation Operation
    {
        get => (ArpOperation)BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Operation..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.Operation..], (ushort)value);
    }

    public MacAddress SenderHardware
    {
        get => MacAddress.Read(_buffer[Field.SenderHardware..]);
        set => value.Write(_buffer[Field.SenderHardware..]);
    }

    public Ipv4Address SenderProtocol
    {
        get => Ipv4Address.Read(_buffer[Field.SenderProtocol..]);
        set => value.Write(_buffer[Field.SenderProtocol..]);
    }

    public MacAddress TargetHardware
    {
        get => MacAddress.Read(_buffer[Field.TargetHardware..]);
        set => value.Write(_buffer[Field.TargetHardware..]);
    }

    public Ipv4Address TargetProtocol
    {
        get => Ipv4Address.Read(_buffer[Field.TargetProtocol..]);
        set => value.Write(_buffer[Field.TargetProtocol..]);
    }

    /// <summary>Writes a whole Ethernet/IPv4 ARP packet.</summary>
    public static void Write(
        Span<byte> buffer, ArpOperation operation,
        MacAddress senderHardware, Ipv4Address senderProtocol,
        MacAddress targetHardware, Ipv4Address targetProtocol)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.HardwareType..], HardwareEthernet);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.ProtocolType..], EtherType.Ipv4);
        buffer[Field.HardwareLength] = MacAddress.Length;
        buffer[Field.ProtocolLength] = Ipv4Address.Length;
        var packet = new ArpPacket(buffer)
        {
            Operation = operation,
            SenderHardware = senderHardware,
            SenderProtocol = senderProtocol,
            TargetHardware = targetHardware,
            TargetProtocol = targetProtocol,
        };
        _ = packet;
    }
}
