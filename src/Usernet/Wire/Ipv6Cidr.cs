namespace Usernet.Wire;

/// <summary>An IPv6 prefix: an address with its host bits cleared and a prefix length.</summary>
internal readonly record struct Ipv6Cidr
{
    public Ipv6Cidr(Ipv6Address address, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 128);
        PrefixLength = prefixLength;
        Network = new Ipv6Address(address.Value & MaskOf(prefixLength));
    }

    /// <summary>The first address, all interface-identifier bits zero (the subnet-router anycast address).</summary>
    public Ipv6Address Network { get; }

    public int PrefixLength { get; }

    public UInt128 Mask => MaskOf(PrefixLength);

    public Ipv6Address Last => new(Network.Value | ~Mask);

    public bool Contains(Ipv6Address address) => (address.Value & Mask) == Network.Value;

    public bool Overlaps(Ipv6Cidr other) => Contains(other.Network) || other.Contains(Network);

    /// <summary>The address <paramref name="offset"/> past the network address, as in prefix::1.</summary>
    public Ipv6Address Address(UInt128 offset) => new(Network.Value + offset);

    // A shift by 128 is a shift by 0, so /0 needs its own case.
    private static UInt128 MaskOf(int prefixLength) => prefixLength == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - prefixLength);

    /// <summary>Splits "prefix/n" without clearing host bits; see <see cref="Ipv4Cidr.TryParse(string, out Ipv4Address, out int)"/>.</summary>
    public static bool TryParse(string text, out Ipv6Address address, out int prefixLength)
    {
        address = default;
        return Ipv4Cidr.TrySplit(text, 128, out string addressText, out prefixLength) && Ipv6Address.TryParse(addressText, out address);
    }

    public static bool TryParse(string text, out Ipv6Cidr cidr)
    {
        bool parsed = TryParse(text, out var address, out int prefixLength);
        cidr = parsed ? new Ipv6Cidr(address, prefixLength) : default;
        return parsed;
    }

    public static Ipv6Cidr Parse(string text) =>
        TryParse(text, out var cidr) ? cidr : throw new FormatException($"'{text}' is not an IPv6 CIDR");

    public override string ToString() => $"{Network}/{PrefixLength}";
}
