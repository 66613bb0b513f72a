using System.Buffers.Binary;

namespace Usernet.Wire;

// RFC 8200 §3 IPv6 Header Format:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version| Traffic Class |           Flow Label                  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Payload Length        |  Next Header  |   Hop Limit   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         Source Address (128)                  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                      Destination Address (128)                |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

/// <summary>Why an IPv6 packet from the guest was refused.</summary>
internal enum Ipv6ParseError
{
    None,
    Truncated,
    BadVersion,
    BadPayloadLength,
    BadExtensionHeader,
}

/// <summary>The fragment header of RFC 8200 §4.5, when a packet has one.</summary>
internal readonly record struct Ipv6FragmentHeader(int Offset, bool MoreFragments, uint Identification, int HeaderOffset);

/// <summary>A view over an IPv6 packet.</summary>
internal readonly ref struct Ipv6Packet
{
    private static class Field
    {
        public const int VersionClassFlow = 0;
        public const int PayloadLength = 4;
        public const int NextHeader = 6;
        public const int HopLimit = 7;
        public const int Source = 8;
        public const int Destination = 24;
    }

    public const int HeaderLength = 40;

    /// <summary>Extension headers walked before the packet is given up on (a guest could chain them forever).</summary>
    private const int MaxExtensionHeaders = 8;

    private readonly Span<byte> _buffer;

    public Ipv6Packet(Span<byte> buffer) => _buffer = buffer;

    /// <summary>
    /// Checked wrap for guest input: on success the view covers exactly the header and Payload
    /// Length bytes (padding cut off). Jumbograms are refused.
    /// </summary>
    public static Ipv6ParseError TryParse(Span<byte> buffer, out Ipv6Packet packet)
    {
        packet = default;
        if (buffer.Length < HeaderLength)
        {
            return Ipv6ParseError.Truncated;
        }
        if (buffer[Field.VersionClassFlow] >> 4 != 6)
        {
            return Ipv6ParseError.BadVersion;
        }
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(buffer[Field.PayloadLength..]);
        if (payloadLength == 0 && buffer[Field.NextHeader] == IpProtocol.HopByHop || HeaderLength + payloadLength > buffer.Length)
        {
            return Ipv6ParseError.BadPayloadLength;
        }
        packet = new Ipv6Packet(buffer[..(HeaderLength + payloadLength)]);
        return Ipv6ParseError.None;
    }

    public Span<byte> Buffer => _buffer;

    /// <summary>Differentiated services and ECN (RFC 8200 §7).</summary>
    public byte TrafficClass => (byte)(BinaryPrimitives.ReadUInt32BigEndian(_buffer) >> 20);

    /// <summary>The 20-bit flow label (RFC 8200 §6; RFC 6437), which Linux sets from a hash of the flow.</summary>
    public uint FlowLabel => BinaryPrimitives.ReadUInt32BigEndian(_buffer) & 0xF_FFFF;

    public int PayloadLength
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.PayloadLength..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_buffer[Field.PayloadLength..], (ushort)value);
    }

    public byte NextHeader
    {
        get => _buffer[Field.NextHeader];
        set => _buffer[Field.NextHeader] = value;
    }

    public byte HopLimit
    {
        get => _buffer[Field.HopLimit];
        set => _buffer[Field.HopLimit] = value;
    }

    public Ipv6Address Source
    {
        get => Ipv6Address.Read(_buffer[Field.Source..]);
        set => value.Write(_buffer[Field.Source..]);
    }

    public Ipv6Address Destination
    {
        get => Ipv6Address.Read(_buffer[Field.Destination..]);
        set => value.Write(_buffer[Field.Destination..]);
    }

    public Span<byte> Payload => _buffer[HeaderLength..];

    /// <summary>
    /// Walks the extension headers (hop-by-hop, routing, destination options, fragment) to the
    /// upper-layer protocol. False when they are malformed, too many, or run past the packet.
    /// </summary>
    public bool TryFindUpperLayer(out byte protocol, out int offset, out Ipv6FragmentHeader? fragment)
    {
        protocol = NextHeader;
        offset = HeaderLength;
        fragment = null;
        for (int count = 0; count < MaxExtensionHeaders; count++)
        {
            switch (protocol)
            {
                case IpProtocol.HopByHop:
                case IpProtocol.Ipv6Route:
                case IpProtocol.Ipv6Options:
                {
                    if (offset + 8 > _buffer.Length)
                    {
                        return false;
                    }
                    int length = (_buffer[offset + 1] + 1) * 8;
                    if (offset + length > _buffer.Length)
                    {
                        return false;
                    }
                    protocol = _buffer[offset];
                    offset += length;
                    continue;
                }
                case IpProtocol.Ipv6Fragment:
                {
                    if (offset + 8 > _buffer.Length || fragment is not null)
                    {
                        return false;
                    }
                    ushort offsetFlags = BinaryPrimitives.ReadUInt16BigEndian(_buffer[(offset + 2)..]);
                    fragment = new Ipv6FragmentHeader(
                        offsetFlags & 0xFFF8, (offsetFlags & 1) != 0, BinaryPrimitives.ReadUInt32BigEndian(_buffer[(offset + 4)..]), offset);
                    protocol = _buffer[offset];
                    offset += 8;
                    continue;
                }
                default:
                    return true;
            }
        }
        return false;
    }

    /// <summary>The pseudo-header sum for an upper-layer checksum over <paramref name="length"/> bytes.</summary>
    public ulong PseudoHeaderSum(byte nextHeader, int length) =>
        InternetChecksum.PseudoHeaderV6(Source, Destination, nextHeader, length);

    /// <summary>Writes a 40-byte header; traffic class and flow label are zero unless given.</summary>
    public static void WriteHeader(
        Span<byte> buffer, Ipv6Address source, Ipv6Address destination, byte nextHeader, int payloadLength, byte hopLimit,
        byte trafficClass = 0, uint flowLabel = 0)
    {
        BinaryPrimitives.WriteUInt32BigEndian(buffer, 0x6000_0000 | ((uint)trafficClass << 20) | (flowLabel & 0xF_FFFF));
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.PayloadLength..], (ushort)payloadLength);
        buffer[Field.NextHeader] = nextHeader;
        buffer[Field.HopLimit] = hopLimit;
        source.Write(buffer[Field.Source..]);
        destination.Write(buffer[Field.Destination..]);
    }

    /// <summary>Writes a fragment extension header (8 bytes).</summary>
    public static void WriteFragmentHeader(Span<byte> buffer, byte nextHeader, int offset, bool moreFragments, uint identification)
    {
        buffer[0] = nextHeader;
        buffer[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], (ushort)((offset & 0xFFF8) | (moreFragments ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], identification);
    }
}
