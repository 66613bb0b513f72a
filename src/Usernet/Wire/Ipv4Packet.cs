using System.Buffers.Binary;

namespace Usernet.Wire;

// RFC 791 §3.1 Internet Header Format:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version|  IHL  |Type of Service|          Total Length         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Identification        |Flags|      Fragment Offset    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Time to Live |    Protocol   |         Header Checksum       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       Source Address                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Destination Address                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Options                    |    Padding    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

internal static class IpProtocol
{
    public const byte HopByHop = 0;
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Ipv6Route = 43;
    public const byte Ipv6Fragment = 44;
    public const byte Icmpv6 = 58;
    public const byte Ipv6NoNext = 59;
    public const byte Ipv6Options = 60;
}

/// <summary>Why an IPv4 packet from the guest was refused.</summary>
internal enum Ipv4ParseError
{
    None,
    Truncated,
    BadVersion,
    BadHeaderLength,
    BadTotalLength,
    BadChecksum,
}

/// <summary>A view over an IPv4 packet, header and payload.</summary>
internal readonly ref struct Ipv4Packet
{
    private static class Field
    {
        public const int VersionIhl = 0;
        public const int Tos = 1;
        public const int TotalLength = 2;
        public const int Identification = 4;
        public const int FlagsFragment = 6;
        public const int Ttl = 8;
        public const int Protocol = 9;
        public const int Checksum = 10;
        public const int Source = 12;
        public const int Destination = 16;
    }

    public const int MinHeaderLength = 20;
    public const int MaxPacketLength = 65535;

    private const ushort FlagDontFragment = 0x4000;
    private const ushort FlagMoreFragments = 0x2000;
    private const ushort OffsetMask = 0x1FFF;

    private readonly Span<byte> _buffer;

    /// <summary>Wraps a buffer known to hold a whole header (for packets being built).</summary>
    public Ipv4Packet(Span<byte> buffer) => _buffer = buffer;

    /// <summary>
    /// Checked wrap for guest input. On success the view covers exactly Total Length bytes
    /// (Ethernet padding is cut off), the header checksum is verified, and no accessor can fail.
    /// </summary>
    public static Ipv4ParseError TryParse(Span<byte> buffer, out Ipv4Packet packet)
    {
        packet = default;
        if (buffer.Length < MinHeaderLength)
        {
            return Ipv4ParseError.Truncated;
        }
        if (buffer[Field.VersionIhl] >> 4 != 4)
        {
            return Ipv4ParseError.BadVersion;
        }
        int headerLength = (buffer[Field.VersionIhl] & 0x0F) * 4;
        if (headerLength < MinHeaderLength || headerLength > buffer.Length)
        {
            return Ipv4ParseError.BadHeaderLength;
        }
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(buffer[Field.TotalLength..]);
        if (totalLength < headerLength || totalLength > buffer.Length)
        {
            return Ipv4ParseError.BadTotalLength;
        }
        if (InternetChecksum.Compute(buffer[..headerLength]) != 0)
        {
            return Ipv4ParseError.BadChecksum;
        }
        packet = new Ipv4Packet(buffer[..totalLength]);
        return Ipv4ParseError.None;
    }

    public Span<byte> Buffer => _buffer;

    public int Version => _buffer[Field.VersionIhl] >> 4;

    public int HeaderLength => (_buffer[Field.VersionIhl] & 0x0F) * 4;

    public byte TypeOfService
    {
        get => _buffer[Field.Tos];
        set => _buffer[Field.Tos] = value;
    }

    public int TotalLength
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.TotalLength..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.TotalLength..], (ushort)value);
    }

    public ushort Identification
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Identification..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.Identification..], value);
    }

    private ushort FlagsFragment
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.FlagsFragment..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.FlagsFragment..], value);
    }

    public bool DontFragment
    {
        get => (FlagsFragment & FlagDontFragment) != 0;
        set => FlagsFragment = (ushort)(value ? FlagsFragment | FlagDontFragment : FlagsFragment & ~FlagDontFragment);
    }

    public bool MoreFragments
    {
        get => (FlagsFragment & FlagMoreFragments) != 0;
        set => FlagsFragment = (ushort)(value ? FlagsFragment | FlagMoreFragments : FlagsFragment & ~FlagMoreFragments);
    }

    /// <summary>The fragment offset in bytes (the field counts 8-byte units).</summary>
    public int FragmentOffset
    {
        get => (FlagsFragment & OffsetMask) * 8;
        set => FlagsFragment = (ushort)((FlagsFragment & ~OffsetMask) | ((value / 8) & OffsetMask));
    }

    public bool IsFragment => MoreFragments || FragmentOffset != 0;

    public byte TimeToLive
    {
        get => _buffer[Field.Ttl];
        set => _buffer[Field.Ttl] = value;
    }

    public byte Protocol
    {
        get => _buffer[Field.Protocol];
        set => _buffer[Field.Protocol] = value;
    }

    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Checksum..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.Checksum..], value);
    }

    public Ipv4Address Source
    {
        get => Ipv4Address.Read(_buffer[Field.Source..]);
        set => value.Write(_buffer[Field.Source..]);
    }

    public Ipv4Address Destination
    {
        get => Ipv4Address.Read(_buffer[Field.Destination..]);
        set => value.Write(_buffer[Field.Destination..]);
    }

    public Span<byte> Header => _buffer[..HeaderLength];

    public Span<byte> Payload => _buffer[HeaderLength..TotalLength];

    public bool VerifyChecksum() => InternetChecksum.Compute(Header) == 0;

    public void FillChecksum()
    {
        Checksum = 0;
        Checksum = InternetChecksum.Compute(Header);
    }

    /// <summary>The pseudo-header sum for the transport checksum of this packet.</summary>
    public ulong PseudoHeaderSum(int transportLength) =>
        InternetChecksum.PseudoHeaderV4(Source, Destination, Protocol, transportLength);

    /// <summary>
    /// Writes a 20-byte header without options and fills its checksum. Returns the header length.
    /// </summary>
    public static int WriteHeader(
        Span<byte> buffer, Ipv4Address source, Ipv4Address destination, byte protocol,
        int payloadLength, ushort identification, byte timeToLive = 64, bool dontFragment = true)
    {
        buffer[Field.VersionIhl] = 0x45;
        buffer[Field.Tos] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.TotalLength..], (ushort)(MinHeaderLength + payloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.Identification..], identification);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.FlagsFragment..], dontFragment ? FlagDontFragment : (ushort)0);
        buffer[Field.Ttl] = timeToLive;
        buffer[Field.Protocol] = protocol;
        source.Write(buffer[Field.Source..]);
        destination.Write(buffer[Field.Destination..]);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.Checksum..], 0);
        ushort checksum = InternetChecksum.Compute(buffer[..MinHeaderLength]);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.Checksum..], checksum);
        return MinHeaderLength;
    }
}
