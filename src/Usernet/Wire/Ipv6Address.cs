using System.Buffers.Binary;
using System.Net;

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
    /// Parses the RFC 4291 §2.2 text forms. IPAddress.TryParse also takes "[::1]:80" and
    /// "fe80::1%eth0" and drops the port or the zone, which this type cannot hold, so those are refused.
    /// </summary>
    public static bool TryParse(string text, out Ipv6Address address)
    {
        address = default;
        if (text.AsSpan().IndexOfAny('[', ']', '%') >= 0)
        {
            return false;
        }
        if (!IPAddress.TryParse(text, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[Length];
        ip.TryWriteBytes(bytes, out _);
        address = Read(bytes);
        return true;
    }

    public static Ipv6Address Parse(string text) =>
        TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not an IPv6 address");

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[Length];
        Write(bytes);
        return new IPAddress(bytes);
    }

    public int CompareTo(Ipv6Address other) => Value.CompareTo(other.Value);

    public override string ToString() => ToIPAddress().ToString();
}
