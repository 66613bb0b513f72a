namespace Usernet.Stack.Tcp;

/// <summary>Limits and timers of the TCP engine, from the settings.</summary>
internal sealed record TcpOptions
{
    /// <summary>Connections the guests open (their SYNs beyond it get RST).</summary>
    public int MaxConnections { get; init; } = 16384;

    /// <summary>
    /// Connections remote clients open through published ports: a budget of their own, so that
    /// clients holding connections open cannot take the guests' (nor the guests theirs).
    /// </summary>
    public int MaxInboundConnections { get; init; } = 16384;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Idle time before we probe the guest (the host socket probes its peer likewise).</summary>
    public TimeSpan KeepaliveIdle { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(15);

    public int KeepaliveCount { get; init; } = 8;

    /// <summary>
    /// How long a connection we closed first lingers to answer a retransmitted FIN. Short: a
    /// new SYN on the same ports replaces it at once anyway (RFC 6191), so it never blocks reuse.
    /// </summary>
    public TimeSpan TimeWait { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>RFC 6298 allows a lower minimum than 1 s; Linux uses 200 ms, and so does this.</summary>
    public TimeSpan MinRto { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxRto { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Retransmissions of one segment before the connection is given up (about 5 minutes of backoff).</summary>
    public int MaxRetransmits { get; init; } = 15;

    /// <summary>Smallest window offered while nothing waits in the backlog (see TcpConnection.WindowField).</summary>
    public int MinReceiveWindow { get; init; } = 256 * 1024;

    /// <summary>Largest receive window offered to the guest.</summary>
    public int MaxReceiveWindow { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// The most segments one connection sends to the guest in one call (a host read event, an
    /// ACK, a retransmission): the rest goes out on the loop's next turn, after the other
    /// events of this one, so a connection with a large window and data waiting cannot hold
    /// the loop. 64 is NAPI's weight, a driver's budget per poll in Linux. It never slows a
    /// single bulk flow: it is 93 KiB of 1460-byte segments and 4 MiB of 64 KiB ones (a TAP's
    /// MTU), and the next turn comes without waiting (see TcpTransport.Yield).
    /// </summary>
    public int SegmentsPerCall { get; init; } = 64;
}
