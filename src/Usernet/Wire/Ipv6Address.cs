using System.Buffers.Binary;

namespace Usernet.Wire;

/// <summary>An IPv6 address as a 128-bit number (network order read big-endian).</summary>
internal readonly record struct Ipv6Address(UInt128 Value) : IComparable<Ipv6Address>
{
    public const int Length = 16;

    public static readonly Ipv6Address Any = new(UInt128.Zero);
    public static readonly Ipv6Address Loopback = new(UInt128.One);

    public static Ipv6Address Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt128BigEndian(source));

    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt128BigEndian(destination, Value);

    public bool IsMulticast => (byte)(Value >> 120) == 0xFF;

    public bool IsUnspecified => Value == UInt128.Zero;

    public bool IsLoopback => Value == UInt128.One;

    /// <summary>fe80::/10.</summary>
    public bool IsLinkLocal => (ushort)(Value >> 112) >> 6 == 0xfe80 >> 6;

    /// <summary>The solicited-node multicast group of this address (RFC 4291 §2.7.1).</summary>
    public Ipv6Address SolicitedNode =>
        new(new UInt128(0xff02_0000_0000_0000, 0x0000_0001_ff00_0000) | (Value & 0xFF_FFFF));

    /// <summary>
    /// Parses the text forms of RFC 4291 §2.2: eight groups of one to four hex digits, one "::"
    /// standing for one or more zero groups, and a dotted quad in place of the last two groups.
    /// A zone ("fe80::1%eth0"), brackets or a port are refused: this type holds none of them.
    /// </summary>
    public static bool TryParse(string text, out Ipv6Address address)
    {
        address = default;
        ReadOnlySpan<char> span = text;
        Span<ushort> groups = stackalloc ushort[GroupCount];
        int gap = span.IndexOf("::");
        if (gap < 0)
        {
            if (!TryParseGroups(span, groups, out int count) || count != GroupCount)
            {
                return false;
            }
        }
        else
        {
            ReadOnlySpan<char> right = span[(gap + 2)..];
            if (right.IndexOf("::") >= 0 || right.StartsWith(':'))
            {
                return false;
            }
            Span<ushort> tail = stackalloc ushort[GroupCount];
            if (!TryParseGroups(span[..gap], groups, out int head) || span[..gap].Contains('.')
                || !TryParseGroups(right, tail, out int rest) || head + rest > GroupCount - 1)
            {
                return false;
            }
            groups[head..].Clear();
            tail[..rest].CopyTo(groups[(GroupCount - rest)..]);
        }
        UInt128 value = UInt128.Zero;
        foreach (ushort group in groups)
        {
            value = (value << 16) | group;
        }
        address = new Ipv6Address(value);
        return true;
    }

    private const int GroupCount = 8;

    /// <summary>Groups separated by single colons, the last of which may be a dotted quad (two groups).</summary>
    private static bool TryParseGroups(ReadOnlySpan<char> text, Span<ushort> groups, out int count)
    {
        count = 0;
        if (text.IsEmpty)
        {
            return true;
        }
        foreach (Range range in text.Split(':'))
        {
            ReadOnlySpan<char> part = text[range];
            if (part.Contains('.'))
            {
                if (range.End.GetOffset(text.Length) != text.Length || count > GroupCount - 2
                    || !Ipv4Address.TryParse(part.ToString(), out var v4))
                {
                    return false;
                }
                groups[count++] = (ushort)(v4.Value >> 16);
                groups[count++] = (ushort)v4.Value;
                continue;
            }
            if (part.Length is < 1 or > 4 || count == GroupCount || !IsHex(part))
            {
                return false;
            }
            groups[count++] = ushort.Parse(part, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture);
        }
        return true;
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    public static Ipv6Address Parse(string text) =>
        TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not an IPv6 address");

    public int CompareTo(Ipv6Address other) => Value.CompareTo(other.Value);

    /// <summary>
    /// The canonical text of RFC 5952 §4: lower-case hex without leading zeros, the longest run
    /// of two or more zero groups (the first of equals) as "::", and an IPv4-mapped address
    /// with its dotted quad (§5).
    /// </summary>
    public override string ToString()
    {
        if ((Value >> 32) == 0xFFFF)
        {
            return $"::ffff:{new Ipv4Address((uint)Value)}";
        }
        Span<ushort> groups = stackalloc ushort[GroupCount];
        int runStart = -1;
        int runLength = 0;
        for (int i = 0, start = -1; i < GroupCount; i++)
        {
            groups[i] = (ushort)(Value >> (16 * (GroupCount - 1 - i)));
            if (groups[i] != 0)
            {
                start = -1;
                continue;
            }
            if (start < 0)
            {
                start = i;
            }
            if (i - start + 1 > runLength)
            {
                (runStart, runLength) = (start, i - start + 1);
            }
        }
        if (runLength < 2)
        {
            runStart = -1;
        }
        var text = new System.Text.StringBuilder(39);
        for (int i = 0; i < GroupCount; i++)
        {
            if (i == runStart)
            {
                text.Append("::");
                i += runLength - 1;
                continue;
            }
            if (i > 0 && i != runStart + runLength)
            {
                text.Append(':');
            }
            text.Append(groups[i].ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
