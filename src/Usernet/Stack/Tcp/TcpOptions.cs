namespace Usernet.Stack.Tcp;

/// <summary>Limits and timers of the TCP engine, from the settings.</summary>
internal sealed record TcpOptions
{
    public int MaxConnections { get; init; } = 16384;

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
}
