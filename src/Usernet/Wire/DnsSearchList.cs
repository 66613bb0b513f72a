namespace Usernet.Wire;

/// <summary>
/// A domain search list in DNS wire format: each name as <see cref="DnsName.Encode(string, Span{byte})"/>
/// writes it (RFC 1035 §3.1: ASCII labels of 1..63 octets, 255 octets a name, lower case),
/// one after another. The same bytes go in DHCPv4 option 119 (RFC 3397 §2), the DHCPv6 Domain
/// List option (RFC 3646 §4) and the router advertisement's DNSSL option (RFC 8106 §5.2), so a
/// guest sees one list whichever way it asks.
/// <para>
/// No compression: RFC 3397 allows pointers within option 119, but DHCPv6 names are never
/// compressed (RFC 8415 §10) and RFC 8106 §5.2 forbids it in DNSSL, and one encoding serves all
/// three. The whole list is at most <see cref="MaxLength"/> octets, what one DHCPv4 option
/// holds (RFC 2132 §2), rather than splitting it over several (RFC 3396).
/// </para>
/// </summary>
internal static class DnsSearchList
{
    /// <summary>The most octets of the encoded list: the length of one DHCPv4 option.</summary>
    public const int MaxLength = 255;

    /// <summary>
    /// Encodes <paramref name="names"/> in order. A name that is no valid DNS name (settings are
    /// checked, but a host's resolv.conf is not) is left out whole rather than cut, and so is
    /// every name from the first that would take the list past <see cref="MaxLength"/>.
    /// </summary>
    public static byte[] Encode(IReadOnlyList<string> names) => Encode(names, out _);

    /// <summary>As <see cref="Encode(IReadOnlyList{string})"/>, saying which names were left out.</summary>
    public static byte[] Encode(IReadOnlyList<string> names, out List<string> leftOut)
    {
        leftOut = new List<string>();
        Span<byte> list = stackalloc byte[MaxLength];
        Span<byte> name = stackalloc byte[DnsName.MaxLength];
        int length = 0;
        bool full = false;
        foreach (string text in names)
        {
            int written = full ? 0 : DnsName.Encode(text, name);
            full |= length + written > MaxLength;
            // 1 is the root alone ("" or "."), which searches nothing.
            if (written <= 1 || full)
            {
                leftOut.Add(text);
                continue;
            }
            name[..written].CopyTo(list[length..]);
            length += written;
        }
        return list[..length].ToArray();
    }
}
