namespace Usernet.Services.Socks;

/// <summary>What a step of <see cref="Socks5Handshake"/> came to.</summary>
internal enum Socks5HandshakeOutcome
{
    /// <summary>More bytes are needed.</summary>
    NeedMore,

    /// <summary>A request is complete: the server decides it and replies.</summary>
    Request,

    /// <summary>The client is refused (<see cref="Socks5Handshake.Refusal"/>): write the reply, if any, and close.</summary>
    Refused,
}
