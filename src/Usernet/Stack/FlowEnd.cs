namespace Usernet.Stack;

/// <summary>
/// Why a flow ended. A <see cref="FlowTable{TKey, TFlow}"/> lets UDP and echo flows go as
/// Evicted, Expired or Closed (and its owner closes the flow's socket for any of them); a TCP
/// connection ends with one of all five.
/// </summary>
internal enum FlowEnd
{
    /// <summary>The table was full and this flow was the least recently used.</summary>
    Evicted,

    /// <summary>Unused for the table's idle timeout.</summary>
    Expired,

    /// <summary>Closed by its owner (its guest went away).</summary>
    Closed,

    /// <summary>TCP: closed in order, FIN both ways.</summary>
    Fin,

    /// <summary>TCP: reset by the guest, the host peer or Usernet (retransmissions given up).</summary>
    Reset,

    /// <summary>TCP: the host socket never connected (refused, unreachable, timed out, or the egress rule).</summary>
    Refused,
}
