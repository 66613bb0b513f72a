using System.Buffers.Binary;

namespace Usernet.Wire;

// RFC 792 ICMP, the common header and the echo form:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |     Code      |          Checksum             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Identifier (echo)         |   Sequence Number (echo)      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Data ...  (for errors: unused/MTU, then the offending IP header + 8 bytes)

internal static class IcmpV4Type
{
    public const byte EchoReply = 0;
    public const byte DestinationUnreachable = 3;
    public const byte EchoRequest = 8;
    public const byte TimeExceeded = 11;
    public const byte ParameterProblem = 12;
}

internal static class IcmpV4Code
{
    public const byte NetUnreachable = 0;
    public const byte HostUnreachable = 1;
    public const byte ProtocolUnreachable = 2;
    public const byte PortUnreachable = 3;
    public const byte FragmentationNeeded = 4;
    public const byte AdministrativelyProhibited = 13;
    public const byte TtlExceeded = 0;
    public const byte ReassemblyTimeExceeded = 1;
}

/// <summary>A view over an ICMPv4 message.</summary>
internal readonly ref struct IcmpV4Message
{
    private static class Field
    {
        public const int Type = 0;
        public const int Code = 1;
        public const int Checksum = 2;
        public const int Identifier = 4;
        public const int Sequence = 6;
        public const int NextHopMtu = 6;
    }

    public const int HeaderLength = 8;

    private readonly Span<byte> _buffer;

    public IcmpV4Message(Span<byte> buffer) => _buffer = buffer;

    /// <summary>Checked wrap for guest input: length, then the checksum over the whole message.</summary>
    public static bool TryParse(Span<byte> buffer, out IcmpV4Message message, out bool checksumValid)
    {
        message = new IcmpV4Message(buffer);
        checksumValid = false;
        if (buffer.Length < HeaderLength)
        {
            return false;
        }
        checksumValid = InternetChecksum.Compute(buffer) == 0;
        return true;
    }

    public Span<byte> Buffer => _buffer;

    public byte Type
    {
        get => _buffer[Field.Type];
        set => _buffer[Field.Type] = value;
    }

    public byte Code
    {
        get => _buffer[Field.Code];
        set => _buffer[Field.Code] = value;
    }

    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Checksum..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.Checksum..], value);
    }

    public ushort Identifier
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Identifier..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.Identifier..], value);
    }

    public ushort SequenceNumber
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Sequence..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.Sequence..], value);
    }

    /// <summary>The next-hop MTU of a "fragmentation needed" message (RFC 1191).</summary>
    public ushort NextHopMtu
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.NextHopMtu..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.NextHopMtu..], value);
    }

    /// <summary>Echo data, or for error messages the quoted datagram.</summary>
    public Span<byte> Payload => _buffer[HeaderLength..];

    public bool IsError => Type is IcmpV4Type.DestinationUnreachable or IcmpV4Type.TimeExceeded or IcmpV4Type.ParameterProblem;

    public void FillChecksum()
    {
        Checksum = 0;
        Checksum = InternetChecksum.Compute(_buffer);
    }
}
