namespace Usernet.Wire;

/// <summary>
/// An address of either family, so that flow tables and settings need not care which. IPv4
/// is held IPv4-mapped (::ffff:a.b.c.d), as the kernel does for dual-stack sockets.
/// </summary>
internal readonly record struct IpAddress(UInt128 Value)
{
    private static readonly UInt128 MappedPrefix = (UInt128)0xFFFF << 32;

    public static IpAddress FromV4(Ipv4Address address) => new(MappedPrefix | address.Value);

    public static IpAddress FromV6(Ipv6Address address) => new(address.Value);

    public static implicit operator IpAddress(Ipv4Address address) => FromV4(address);

    public static implicit operator IpAddress(Ipv6Address address) => FromV6(address);

    public bool IsV4 => (Value >> 32) == 0xFFFF;

    public Ipv4Address V4 => new((uint)Value);

    public Ipv6Address V6 => new(Value);

    public bool IsLoopback => IsV4 ? V4.IsLoopback : V6.IsLoopback;

    public bool IsUnspecified => IsV4 ? V4.IsUnspecified : V6.IsUnspecified;

    public static bool TryParse(string text, out IpAddress address)
    {
        if (Ipv4Address.TryParse(text, out var v4))
        {
            address = v4;
            return true;
        }
        string trimmed = text.StartsWith('[') && text.EndsWith(']') ? text[1..^1] : text;
        if (Ipv6Address.TryParse(trimmed, out var v6))
        {
            address = v6;
            return true;
        }
        address = default;
        return false;
    }

    public static IpAddress Parse(string text) =>
        TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not an IP address");

    public override string ToString() => IsV4 ? V4.ToString() : V6.ToString();
}

/// <summary>An address and port of either family.</summary>
internal readonly record struct IpEndpoint(IpAddress Address, ushort Port)
{
    public override string ToString() => Address.IsV4 ? $"{Address}:{Port}" : $"[{Address}]:{Port}";
}
