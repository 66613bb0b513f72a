namespace Usernet.Stack.Tcp;

/// <summary>
/// Our initial sequence numbers, as RFC 6528 §3 builds them: a clock that ticks every 4 µs plus
/// a keyed hash of the connection's endpoints. For one pair of endpoints each new connection
/// then starts above where the last one ended (unless that one sent more than the clock moved,
/// 250,000 bytes a second), and that is what lets a Linux guest accept our SYN while it still
/// holds the previous connection in TIME-WAIT (RFC 1122 §4.2.2.13, Linux's
/// tcp_timewait_state_process): a host client of a published port that reuses its port at once
/// (tcp_tw_reuse on loopback) gets the same endpoints into the guest. With random numbers half
/// of those SYNs fell below the old connection's and were answered with its ACK, and the
/// connection hung until the guest's TIME-WAIT ended. The hash keeps the numbers of different
/// pairs unrelated, so that one connection's numbers tell nothing about another's.
/// </summary>
internal static class InitialSequence
{
    // HashCode is seeded per process as well; the secret keeps the hash ours alone.
    private static readonly int Secret = Random.Shared.Next();

    public static SeqNumber For(in TcpFlowKey key, Instant now) =>
        new((uint)(now.Nanoseconds / 4000) + (uint)HashCode.Combine(key.Guest, key.Remote, key.LinkId, Secret));
}
