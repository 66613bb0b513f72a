using System.Text;

namespace Usernet.Wire;

// RFC 1035 §3.1 and §4.1.4: a name is a sequence of labels, each a length octet (at most 63)
// and that many octets, ended by the root label (a zero octet); 255 octets in all. A length
// octet whose top two bits are set is instead a pointer: the name goes on at the 14-bit offset
// from the start of the message.
//
//     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//     | 1  1|                OFFSET                   |
//     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+

/// <summary>
/// Domain names in wire format. Names are compared and used as keys in their uncompressed,
/// lower-case wire form (ASCII case folding only, RFC 4343 §3).
/// </summary>
internal static class DnsName
{
    /// <summary>The longest name, root label included (RFC 1035 §3.1).</summary>
    public const int MaxLength = 255;

    public const int MaxLabelLength = 63;

    /// <summary>
    /// Pointers followed in one name. Every pointer must also point backwards, and the name's
    /// length is bounded, so a loop of pointers ends; this bounds the work on top of that.
    /// </summary>
    public const int MaxPointers = 32;

    /// <summary>The pointer to a question name right after the header: offset 12 (RFC 1035 §4.1.4).</summary>
    public const ushort PointerToQuestion = 0xC000 | DnsMessage.HeaderLength;

    /// <summary>
    /// Reads the name at <paramref name="offset"/> of <paramref name="message"/>, following
    /// pointers. When <paramref name="lower"/> is not empty (it needs <see cref="MaxLength"/>
    /// bytes), writes the name there uncompressed and in lower case. <paramref name="end"/> is
    /// where the name ends in the message: after its first pointer, or after the root label.
    /// Returns false for a malformed name, or one with a pointer below
    /// <paramref name="lowestTarget"/>; nothing it is given makes it loop or throw.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> message, int offset, Span<byte> lower, out int end, out int length, int lowestTarget = 0)
    {
        end = -1;
        length = 0;
        int position = offset;
        int written = 0;
        int pointers = 0;
        while (true)
        {
            if ((uint)position >= (uint)message.Length)
            {
                return false;
            }
            byte octet = message[position];
            if (octet == 0)
            {
                if (!lower.IsEmpty)
                {
                    lower[written] = 0;
                }
                length = written + 1;
                if (end < 0)
                {
                    end = position + 1;
                }
                return true;
            }
            switch (octet & 0xC0)
            {
                case 0xC0:
                {
                    if (position + 1 >= message.Length)
                    {
                        return false;
                    }
                    int target = ((octet & 0x3F) << 8) | message[position + 1];
                    // RFC 1035 §4.1.4: a pointer is to a prior occurrence of the name.
                    if (target >= position || target < lowestTarget || ++pointers > MaxPointers)
                    {
                        return false;
                    }
                    if (end < 0)
                    {
                        end = position + 2;
                    }
                    position = target;
                    break;
                }
                case 0x00:
                {
                    int labelEnd = position + 1 + octet;
                    // The label, and still room for the root label after it.
                    if (labelEnd > message.Length || written + 1 + octet + 1 > MaxLength)
                    {
                        return false;
                    }
                    if (!lower.IsEmpty)
                    {
                        lower[written] = octet;
                        ToLower(message.Slice(position + 1, octet), lower.Slice(written + 1, octet));
                    }
                    written += 1 + octet;
                    position = labelEnd;
                    break;
                }
                default:
                    // 0x40 (extended label types, RFC 6891 §5) and 0x80 are not in use.
                    return false;
            }
        }
    }

    /// <summary>Checks the name at <paramref name="offset"/> and finds where it ends.</summary>
    public static bool TrySkip(ReadOnlySpan<byte> message, int offset, out int end, int lowestTarget = 0) =>
        TryRead(message, offset, Span<byte>.Empty, out end, out _, lowestTarget);

    private static void ToLower(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        for (int i = 0; i < source.Length; i++)
        {
            byte c = source[i];
            destination[i] = c is >= (byte)'A' and <= (byte)'Z' ? (byte)(c | 0x20) : c;
        }
    }

    /// <summary>
    /// Encodes dotted text ("Host.Docker.Internal", a trailing dot allowed) as a lower-case
    /// wire name. Returns the length, or 0 when the text is no valid name.
    /// </summary>
    public static int Encode(string text, Span<byte> wire)
    {
        string trimmed = text.EndsWith('.') ? text[..^1] : text;
        if (trimmed.Length == 0)
        {
            if (wire.IsEmpty)
            {
                return 0;
            }
            wire[0] = 0;
            return 1;
        }
        int written = 0;
        foreach (string label in trimmed.Split('.'))
        {
            if (label.Length is 0 or > MaxLabelLength || written + 1 + label.Length + 1 > Math.Min(MaxLength, wire.Length)
                || !Ascii.IsValid(label))
            {
                return 0;
            }
            wire[written] = (byte)label.Length;
            Encoding.ASCII.GetBytes(label.ToLowerInvariant(), wire.Slice(written + 1));
            written += 1 + label.Length;
        }
        wire[written] = 0;
        return written + 1;
    }

    public static byte[] Encode(string text)
    {
        Span<byte> wire = stackalloc byte[MaxLength];
        int length = Encode(text, wire);
        return length == 0 ? throw new FormatException($"'{text}' is not a domain name") : wire[..length].ToArray();
    }

    /// <summary>
    /// Dotted text of an uncompressed wire name, without the trailing dot ("." for the root).
    /// Dots and backslashes in labels and unprintable octets are escaped as in master files
    /// (RFC 1035 §5.1).
    /// </summary>
    public static string ToText(ReadOnlySpan<byte> wire)
    {
        if (wire.Length == 0 || wire[0] == 0)
        {
            return ".";
        }
        var text = new StringBuilder(wire.Length);
        int position = 0;
        while (position < wire.Length && wire[position] != 0)
        {
            int length = wire[position];
            if (text.Length > 0)
            {
                text.Append('.');
            }
            foreach (byte c in wire.Slice(position + 1, Math.Min(length, wire.Length - position - 1)))
            {
                if (c is (byte)'.' or (byte)'\\')
                {
                    text.Append('\\').Append((char)c);
                }
                else if (c is > 0x20 and < 0x7F)
                {
                    text.Append((char)c);
                }
                else
                {
                    text.Append('\\').Append(c.ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            position += 1 + length;
        }
        return text.ToString();
    }

    /// <summary>
    /// Whether a lower-case wire name is an ordinary host name: at least one label, each of
    /// letters, digits, '-' and '_' (RFC 952, RFC 1123 §2.1), so that its dotted text means the
    /// same name to getaddrinfo.
    /// </summary>
    public static bool IsHostName(ReadOnlySpan<byte> wire)
    {
        if (wire.Length < 2 || wire[0] == 0)
        {
            return false;
        }
        int position = 0;
        while (wire[position] != 0)
        {
            int length = wire[position];
            foreach (byte c in wire.Slice(position + 1, length))
            {
                if (c is not ((>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'_'))
                {
                    return false;
                }
            }
            position += 1 + length;
        }
        return true;
    }

    /// <summary>
    /// Whether <paramref name="name"/> is <paramref name="zone"/> or a name below it; both
    /// uncompressed and lower case. Compares at label boundaries only.
    /// </summary>
    public static bool IsAtOrBelow(ReadOnlySpan<byte> name, ReadOnlySpan<byte> zone)
    {
        int position = 0;
        while (position < name.Length)
        {
            int remaining = name.Length - position;
            if (remaining == zone.Length)
            {
                return name[position..].SequenceEqual(zone);
            }
            if (remaining < zone.Length || name[position] == 0)
            {
                return false;
            }
            position += 1 + name[position];
        }
        return false;
    }
}
