using System.Buffers.Binary;

namespace Usernet.Wire;

// RFC 4861 §4: Neighbor Solicitation and Advertisement carry a target address after 4 bytes
// of flags; Router Solicitation has 4 reserved bytes; Router Advertisement has 12 bytes of
// parameters. Options follow, each:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |    Length     |              ...              |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// Length counts 8-byte units and is never 0 (§4.6).

internal static class NdpOption
{
    public const byte SourceLinkLayerAddress = 1;
    public const byte TargetLinkLayerAddress = 2;
    public const byte PrefixInformation = 3;
    public const byte Mtu = 5;
    public const byte RecursiveDnsServer = 25;
    public const byte DnsSearchList = 31;
}

/// <summary>Offsets of the NDP messages, and checked reading of their options.</summary>
internal static class NdpMessage
{
    /// <summary>Where the options start, for each message type.</summary>
    public static int OptionsOffset(byte type) => type switch
    {
        Icmpv6Type.RouterSolicitation => 8,
        Icmpv6Type.RouterAdvertisement => 16,
        Icmpv6Type.NeighborSolicitation or Icmpv6Type.NeighborAdvertisement => 24,
        _ => -1,
    };

    /// <summary>The target address of a Neighbor Solicitation or Advertisement.</summary>
    public static Ipv6Address Target(ReadOnlySpan<byte> message) => Ipv6Address.Read(message[8..]);

    /// <summary>
    /// Checks every option's length (RFC 4861 §4.6: none zero, none past the end) and finds the
    /// source or target link-layer address. False when an option is malformed.
    /// </summary>
    public static bool TryReadOptions(ReadOnlySpan<byte> message, byte type, out MacAddress? linkLayerAddress)
    {
        linkLayerAddress = null;
        int offset = OptionsOffset(type);
        if (offset < 0 || message.Length < offset)
        {
            return false;
        }
        var options = message[offset..];
        while (options.Length > 0)
        {
            if (options.Length < 2)
            {
                return false;
            }
            int length = options[1] * 8;
            if (length == 0 || length > options.Length)
            {
                return false;
            }
            if (options[0] is NdpOption.SourceLinkLayerAddress or NdpOption.TargetLinkLayerAddress)
            {
                if (length != 8)
                {
                    return false;
                }
                linkLayerAddress = MacAddress.Read(options[2..]);
            }
            options = options[length..];
        }
        return true;
    }

    /// <summary>Writes a link-layer address option (8 bytes).</summary>
    public static int WriteLinkLayerOption(Span<byte> buffer, byte type, MacAddress mac)
    {
        buffer[0] = type;
        buffer[1] = 1;
        mac.Write(buffer[2..]);
        return 8;
    }

    /// <summary>Writes a Prefix Information option (32 bytes, RFC 4861 §4.6.2).</summary>
    public static int WritePrefixOption(Span<byte> buffer, Ipv6Address prefix, int prefixLength, bool onLink, bool autonomous, uint validSeconds, uint preferredSeconds)
    {
        buffer[..32].Clear();
        buffer[0] = NdpOption.PrefixInformation;
        buffer[1] = 4;
        buffer[2] = (byte)prefixLength;
        buffer[3] = (byte)((onLink ? 0x80 : 0) | (autonomous ? 0x40 : 0));
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], validSeconds);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[8..], preferredSeconds);
        prefix.Write(buffer[16..]);
        return 32;
    }

    /// <summary>Writes an MTU option (8 bytes).</summary>
    public static int WriteMtuOption(Span<byte> buffer, int mtu)
    {
        buffer[0] = NdpOption.Mtu;
        buffer[1] = 1;
        buffer[2] = 0;
        buffer[3] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], (uint)mtu);
        return 8;
    }

    /// <summary>Writes a Recursive DNS Server option (RFC 8106 §5.1).</summary>
    public static int WriteRdnssOption(Span<byte> buffer, ReadOnlySpan<Ipv6Address> servers, uint lifetimeSeconds)
    {
        int length = 8 + servers.Length * 16;
        buffer[0] = NdpOption.RecursiveDnsServer;
        buffer[1] = (byte)(length / 8);
        buffer[2] = 0;
        buffer[3] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], lifetimeSeconds);
        for (int i = 0; i < servers.Length; i++)
        {
            servers[i].Write(buffer[(8 + i * 16)..]);
        }
        return length;
    }

    /// <summary>Writes a DNS Search List option (RFC 8106 §5.2): names in DNS wire format, padded to 8 bytes.</summary>
    public static int WriteDnsslOption(Span<byte> buffer, ReadOnlySpan<byte> encodedNames, uint lifetimeSeconds)
    {
        int length = (8 + encodedNames.Length + 7) & ~7;
        buffer[..length].Clear();
        buffer[0] = NdpOption.DnsSearchList;
        buffer[1] = (byte)(length / 8);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], lifetimeSeconds);
        encodedNames.CopyTo(buffer[8..]);
        return length;
    }
}
