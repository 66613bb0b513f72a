using System.Globalization;

namespace Usernet.Wire;

/// <summary>
/// An IPv4 network: an address with its host bits cleared and a prefix length. Host bits are
/// cleared on construction, so two values that cover the same addresses are equal.
/// </summary>
internal readonly record struct Ipv4Cidr
{
    public Ipv4Cidr(Ipv4Address address, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        PrefixLength = prefixLength;
        Network = new Ipv4Address(address.Value & MaskOf(prefixLength));
    }

    /// <summary>The first address, all host bits zero.</summary>
    public Ipv4Address Network { get; }

    public int PrefixLength { get; }

    public uint Mask => MaskOf(PrefixLength);

    /// <summary>The last address, all host bits one (the directed broadcast address).</summary>
    public Ipv4Address Broadcast => new(Network.Value | ~Mask);

    /// <summary>How many addresses the network holds, network and broadcast included.</summary>
    public ulong Size => 1UL << (32 - PrefixLength);

    public bool Contains(Ipv4Address address) => (address.Value & Mask) == Network.Value;

    public bool Overlaps(Ipv4Cidr other) => Contains(other.Network) || other.Contains(Network);

    // A shift by 32 is a shift by 0 in C#, so /0 needs its own case.
    private static uint MaskOf(int prefixLength) => prefixLength == 0 ? 0 : uint.MaxValue << (32 - prefixLength);

    /// <summary>
    /// Splits "a.b.c.d/n" without clearing host bits, so that a caller can tell
    /// "10.0.0.1/8" (an address on a network) from "10.0.0.0/8" (the network).
    /// </summary>
    public static bool TryParse(string text, out Ipv4Address address, out int prefixLength)
    {
        address = default;
        return TrySplit(text, 32, out string addressText, out prefixLength) && Ipv4Address.TryParse(addressText, out address);
    }

    public static bool TryParse(string text, out Ipv4Cidr cidr)
    {
        bool parsed = TryParse(text, out var address, out int prefixLength);
        cidr = parsed ? new Ipv4Cidr(address, prefixLength) : default;
        return parsed;
    }

    public static Ipv4Cidr Parse(string text) =>
        TryParse(text, out var cidr) ? cidr : throw new FormatException($"'{text}' is not an IPv4 CIDR");

    /// <summary>Splits "address/length" of either family; the length is digits only, as int.TryParse would take "+8" or " 8".</summary>
    internal static bool TrySplit(string text, int maximumLength, out string address, out int prefixLength)
    {
        prefixLength = 0;
        int slash = text.IndexOf('/');
        address = slash > 0 ? text[..slash] : "";
        var length = text.AsSpan(slash + 1);
        return slash > 0
            && length.Length is > 0 and <= 3
            && !length.ContainsAnyExcept("0123456789")
            && int.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out prefixLength)
            && prefixLength <= maximumLength;
    }

    public override string ToString() => $"{Network}/{PrefixLength}";
}
