namespace Usernet.Stack;

/// <summary>Why a <see cref="FlowTable{TKey, TFlow}"/> let a flow go; its owner closes the flow's socket for any of them.</summary>
internal enum FlowEnd
{
    /// <summary>The table was full and this flow was the least recently used.</summary>
    Evicted,

    /// <summary>Unused for the table's idle timeout.</summary>
    Expired,

    /// <summary>Closed by its owner (its guest went away).</summary>
    Closed,
}
