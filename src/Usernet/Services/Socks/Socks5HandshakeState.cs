namespace Usernet.Services.Socks;

/// <summary>Where a <see cref="Socks5Handshake"/> is: Greeting -> Password -> Request -> Decided, or Refused.</summary>
internal enum Socks5HandshakeState
{
    Greeting,

    /// <summary>RFC 1929's subnegotiation, when the server has credentials.</summary>
    Password,

    Request,

    /// <summary>The request is read; the server decides what becomes of it.</summary>
    Decided,

    Refused,
}
