namespace Usernet.Services.Proxy;

/// <summary>
/// What the proxy gives one connection, and all of them together. Guests are untrusted: one
/// that sends half a request head, trickles a body or asks a server that never answers must
/// not hold the proxy's connections or memory, so each phase before a tunnel has its time,
/// and buffers come from one budget. A tunnel, once open, and an answer's body have no timer:
/// they last as long as their ends send (a download, a stream of events), as the README says.
/// These are constants with their reasons, not settings; tests make them short.
/// </summary>
internal sealed record ProxyLimits
{
    /// <summary>Guest connections served at once; more get 503.</summary>
    public int MaxConnections { get; init; } = 4096;

    /// <summary>How long a connection may wait for the first byte of a request: its first, or the next on a kept-alive connection.</summary>
    public TimeSpan Idle { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// From a request head's first byte to its end. A client writes its head at once (curl and
    /// browsers in one write); the guest is on this host, not across the internet, where
    /// Apache's mod_reqtimeout allows 20 s. A head not complete by then gets 408 (slowloris).
    /// </summary>
    public TimeSpan RequestHead { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a request body may send nothing: measured between reads, not over the whole
    /// body, so a large upload takes as long as it needs (nginx's client_body_timeout, 60 s).
    /// </summary>
    public TimeSpan RequestBodyIdle { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long an upstream has to answer: an origin's or HTTP proxy's response head, counted
    /// from the end of the request's body; an upstream proxy's answer to CONNECT, its SOCKS5
    /// replies and its TLS handshake. Two minutes leave room for long polls, which wait for an
    /// event before their head (nginx's proxy_read_timeout is 60 s). Beyond it: 504.
    /// </summary>
    public TimeSpan UpstreamAnswer { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Every buffer the proxy holds, across all connections: 64 KiB per guest connection and
    /// per upstream connection (their readers, which hold a head of up to 32 KiB), 16 KiB for a
    /// transparent connection's peek, and a request body of up to 64 KiB kept for a Negotiate
    /// or NTLM exchange to send again. 128 MiB (the TCP engine's guest-data budget too) serves
    /// 1024 requests with upstream connections at once, or 2048 idle connections; beyond it
    /// new work gets 503, counted as overBudget, rather than memory without bound.
    /// </summary>
    public long MaxBufferedBytes { get; init; } = 128L * 1024 * 1024;
}
