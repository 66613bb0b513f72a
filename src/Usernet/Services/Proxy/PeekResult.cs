namespace Usernet.Services.Proxy;

/// <summary>What the first bytes of a connection say about the host it is for.</summary>
internal enum PeekResult
{
    /// <summary>Not the protocol looked for.</summary>
    NotThis,

    /// <summary>It may be, once more bytes arrive.</summary>
    NeedMore,

    /// <summary>It is, but names no host.</summary>
    NoName,

    Found,
}
