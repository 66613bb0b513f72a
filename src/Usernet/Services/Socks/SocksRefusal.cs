namespace Usernet.Services.Socks;

/// <summary>Why the SOCKS server turned a client away; each is counted in <c>usernet stats</c>.</summary>
internal enum SocksRefusal
{
    None,

    /// <summary>Not SOCKS5, or a message that breaks RFC 1928 or RFC 1929: closed, with 0xFF or 01 where a reply fits.</summary>
    Malformed,

    /// <summary>The greeting offers no method the server accepts (RFC 1928 §3: 0xFF).</summary>
    NoAcceptableMethod,

    /// <summary>The user or password is wrong (RFC 1929 §2: a non-zero status, then close).</summary>
    BadCredentials,

    /// <summary>The handshake did not finish within its time.</summary>
    TimedOut,

    /// <summary>BIND, UDP ASSOCIATE or an unknown command (07).</summary>
    UnsupportedCommand,

    /// <summary>An address type RFC 1928 does not define (08).</summary>
    UnsupportedAddressType,

    /// <summary>A destination outside Usernet's networks (02): no open relay.</summary>
    NotAllowed,

    /// <summary>A name no source of Usernet's knows (04).</summary>
    UnknownName,

    /// <summary>The guest answered the SYN with RST (05).</summary>
    GuestRefused,

    /// <summary>The guest did not answer within the connect timeout, or no link leads to it (04).</summary>
    GuestUnreachable,

    /// <summary>The server's connection cap, or the TCP budget of connections into the guests (01).</summary>
    LimitReached,
}
