using System.Buffers.Binary;
using System.Globalization;

namespace Usernet.Wire;

/// <summary>An IPv4 address as a host-order uint, so that masks and ranges are arithmetic.</summary>
internal readonly record struct Ipv4Address(uint Value) : IComparable<Ipv4Address>
{
    public const int Length = 4;

    public static readonly Ipv4Address Any = new(0);
    public static readonly Ipv4Address Broadcast = new(0xFFFF_FFFF);
    public static readonly Ipv4Address Loopback = new(0x7F00_0001);

    public static Ipv4Address Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt32BigEndian(source));

    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, Value);

    public static Ipv4Address FromBytes(byte a, byte b, byte c, byte d) =>
        new(((uint)a << 24) | ((uint)b << 16) | ((uint)c << 8) | d);

    public bool IsMulticast => (Value >> 28) == 0xE;

    public bool IsBroadcast => Value == Broadcast.Value;

    public bool IsLoopback => (Value >> 24) == 127;

    public bool IsUnspecified => Value == 0;

    /// <summary>Network byte order, as sockaddr_in wants it.</summary>
    public uint NetworkOrder => BinaryPrimitives.ReverseEndianness(Value);

    public static Ipv4Address FromNetworkOrder(uint value) => new(BinaryPrimitives.ReverseEndianness(value));

    /// <summary>
    /// Parses the dotted quad only. System.Net's IPAddress.TryParse follows inet_aton and would read "10.1" as
    /// 10.0.0.1, "0x0a.0.0.1" as hex and "010.0.0.1" as octal 8.0.0.1; a leading zero is refused
    /// because a reader cannot tell which of the two was meant.
    /// </summary>
    public static bool TryParse(string text, out Ipv4Address address)
    {
        address = default;
        ReadOnlySpan<char> span = text;
        Span<Range> parts = stackalloc Range[Length + 1];
        if (span.Split(parts, '.') != Length)
        {
            return false;
        }
        uint value = 0;
        foreach (Range range in parts[..Length])
        {
            ReadOnlySpan<char> part = span[range];
            if (part.Length is < 1 or > 3 || (part.Length > 1 && part[0] == '0')
                || !byte.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out byte octet))
            {
                return false;
            }
            value = (value << 8) | octet;
        }
        address = new Ipv4Address(value);
        return true;
    }

    public static Ipv4Address Parse(string text) =>
        TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not an IPv4 address");

    public Ipv4Address Offset(int delta) => new((uint)(Value + delta));

    public int CompareTo(Ipv4Address other) => Value.CompareTo(other.Value);

    public static bool operator <(Ipv4Address a, Ipv4Address b) => a.Value < b.Value;

    public static bool operator >(Ipv4Address a, Ipv4Address b) => a.Value > b.Value;

    public static bool operator <=(Ipv4Address a, Ipv4Address b) => a.Value <= b.Value;

    public static bool operator >=(Ipv4Address a, Ipv4Address b) => a.Value >= b.Value;

    public override string ToString() => $"{Value >> 24}.{(Value >> 16) & 0xFF}.{(Value >> 8) & 0xFF}.{Value & 0xFF}";
}
