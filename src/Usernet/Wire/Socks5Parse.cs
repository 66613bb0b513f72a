namespace Usernet.Wire;

/// <summary>How far a SOCKS5 message that arrived in pieces could be read.</summary>
internal enum Socks5Parse
{
    /// <summary>More bytes are needed.</summary>
    Incomplete,

    Complete,

    /// <summary>Not a SOCKS5 message: a wrong version, a reserved byte set, an empty list.</summary>
    Malformed,

    /// <summary>A request whose address type RFC 1928 does not define (reply 08).</summary>
    UnknownAddressType,
}
