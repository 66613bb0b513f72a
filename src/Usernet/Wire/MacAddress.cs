using System.Buffers.Binary;

namespace Usernet.Wire;

/// <summary>A 48-bit Ethernet address, held in the low bits of a ulong in wire order.</summary>
internal readonly record struct MacAddress(ulong Value)
{
    public const int Length = 6;

    public static readonly MacAddress Broadcast = new(0xFFFF_FFFF_FFFF);
    public static readonly MacAddress Zero = new(0);

    /// <summary>The MAC an IPv6 multicast group maps to: 33:33 and the group's last 32 bits (RFC 2464 §7).</summary>
    public static MacAddress ForIpv6Multicast(Ipv6Address group) => new(0x3333_0000_0000UL | (uint)group.Value);

    public static MacAddress Read(ReadOnlySpan<byte> source) =>
        new(((ulong)BinaryPrimitives.ReadUInt16BigEndian(source) << 32) | BinaryPrimitives.ReadUInt32BigEndian(source[2..]));

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(Value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)Value);
    }

    /// <summary>The I/G bit: group (broadcast or multicast) addresses.</summary>
    public bool IsMulticast => ((Value >> 40) & 1) != 0;

    public bool IsBroadcast => Value == Broadcast.Value;

    public bool IsUnicast => !IsMulticast && Value != 0;

    /// <summary>A random unicast, locally administered address.</summary>
    public static MacAddress NewLocal()
    {
        Span<byte> bytes = stackalloc byte[Length];
        Random.Shared.NextBytes(bytes);
        bytes[0] = (byte)((bytes[0] & 0xFE) | 0x02);
        return Read(bytes);
    }

    public static bool TryParse(string text, out MacAddress address)
    {
        address = default;
        string[] parts = text.Split(':', '-');
        if (parts.Length != Length)
        {
            return false;
        }
        ulong value = 0;
        foreach (string part in parts)
        {
            // AllowHexSpecifier alone: HexNumber would also take " a" or "a " as a byte.
            if (part.Length is < 1 or > 2 || !byte.TryParse(part, System.Globalization.NumberStyles.AllowHexSpecifier, null, out byte b))
            {
                return false;
            }
            value = (value << 8) | b;
        }
        address = new MacAddress(value);
        return true;
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Length];
        Write(bytes);
        return Convert.ToHexString(bytes).ToLowerInvariant() switch
        {
            var hex => string.Join(':', Enumerable.Range(0, Length).Select(i => hex.Substring(i * 2, 2))),
        };
    }
}
