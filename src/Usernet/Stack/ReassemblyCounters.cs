namespace Usernet.Stack;

/// <summary>
/// What reassembly did, for statistics. Each Dropped* counts datagrams given up (or lone
/// fragments refused before they started one), not fragments.
/// </summary>
internal sealed class ReassemblyCounters
{
    public long Completed;
    public long TimedOut;
    public long DroppedOverlap;
    public long DroppedTooLarge;
    public long DroppedTooManyFragments;

    /// <summary>Evicted, the oldest first, to make room for a new datagram.</summary>
    public long DroppedTableFull;

    public long DroppedMalformed;

    /// <summary>Fragments identical in place and length to one already held; ignored, as Linux does.</summary>
    public long DuplicatesIgnored;
}
