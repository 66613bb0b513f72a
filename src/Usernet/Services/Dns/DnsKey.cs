namespace Usernet.Services.Dns;

/// <summary>
/// Keys of the server's tables as strings: the lower-case wire name, one char per octet, and
/// for the cache the QTYPE as one more char. Built in a caller's stack buffer, so that a
/// lookup through a dictionary's span lookup allocates nothing; only a stored key is a string.
/// </summary>
internal static class DnsKey
{
    /// <summary>Room for any key: a name of 255 octets and the type.</summary>
    public const int MaxLength = Wire.DnsName.MaxLength + 1;

    public static ReadOnlySpan<char> ForName(ReadOnlySpan<byte> lowerName, Span<char> buffer)
    {
        for (int i = 0; i < lowerName.Length; i++)
        {
            buffer[i] = (char)lowerName[i];
        }
        return buffer[..lowerName.Length];
    }

    public static ReadOnlySpan<char> ForQuestion(ReadOnlySpan<byte> lowerName, ushort type, Span<char> buffer)
    {
        ForName(lowerName, buffer);
        buffer[lowerName.Length] = (char)type;
        return buffer[..(lowerName.Length + 1)];
    }
}
