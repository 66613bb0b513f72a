using System.Buffers.Binary;

namespace Usernet.Wire;

// RFC 4443 §2.1 ICMPv6 message (and the NDP messages of RFC 4861 §4 share the first 8 bytes):
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |     Code      |          Checksum             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         Message Body                          |

internal static class Icmpv6Type
{
    public const byte DestinationUnreachable = 1;
    public const byte PacketTooBig = 2;
    public const byte TimeExceeded = 3;
    public const byte ParameterProblem = 4;
    public const byte EchoRequest = 128;
    public const byte EchoReply = 129;
    public const byte MulticastListenerQuery = 130;
    public const byte MulticastListenerReport = 131;
    public const byte MulticastListenerDone = 132;
    public const byte RouterSolicitation = 133;
    public const byte RouterAdvertisement = 134;
    public const byte NeighborSolicitation = 135;
    public const byte NeighborAdvertisement = 136;
    public const byte Redirect = 137;
    public const byte MulticastListenerReportV2 = 143;
}

internal static class Icmpv6Code
{
    public const byte NoRoute = 0;
    public const byte AdministrativelyProhibited = 1;
    public const byte AddressUnreachable = 3;
    public const byte PortUnreachable = 4;
    public const byte HopLimitExceeded = 0;
}

/// <summary>A view over an ICMPv6 message.</summary>
internal readonly ref struct Icmpv6Message
{
    public const int HeaderLength = 8;

    private readonly Span<byte> _buffer;

    public Icmpv6Message(Span<byte> buffer) => _buffer = buffer;

    /// <summary>Checked wrap: at least the 8-byte header, and the checksum with the pseudo-header.</summary>
    public static bool TryParse(Span<byte> buffer, ulong pseudoHeaderSum, out Icmpv6Message message, out bool checksumValid)
    {
        message = new Icmpv6Message(buffer);
        checksumValid = false;
        if (buffer.Length < HeaderLength)
        {
            return false;
        }
        checksumValid = InternetChecksum.IsValid(InternetChecksum.Add(pseudoHeaderSum, buffer));
        return true;
    }

    public Span<byte> Buffer => _buffer;

    public byte Type
    {
        get => _buffer[0];
        set => _buffer[0] = value;
    }

    public byte Code
    {
        get => _buffer[1];
        set => _buffer[1] = value;
    }

    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[2..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[2..], value);
    }

    /// <summary>Echo identifier (echo messages only).</summary>
    public ushort Identifier
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[4..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[4..], value);
    }

    public ushort SequenceNumber
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[6..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[6..], value);
    }

    /// <summary>The 32-bit field after the checksum: MTU of Packet Too Big, pointer of Parameter Problem.</summary>
    public uint Word
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[4..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_buffer[4..], value);
    }

    public Span<byte> Body => _buffer[HeaderLength..];

    public bool IsError => IsErrorType(Type);

    /// <summary>RFC 4443 §2.1: types 0–127 are errors, 128–255 informational.</summary>
    public static bool IsErrorType(byte type) => type < 128;

    public void FillChecksum(ulong pseudoHeaderSum)
    {
        Checksum = 0;
        Checksum = InternetChecksum.Finish(InternetChecksum.Add(pseudoHeaderSum, _buffer));
    }
}
