namespace Usernet.Stack;

/// <summary>What became of the datagram a fragment belongs to.</summary>
internal enum ReassemblyOutcome
{
    /// <summary>The fragment completed its datagram.</summary>
    Complete,

    /// <summary>The datagram waits for more fragments (also when the fragment was an ignored duplicate).</summary>
    Pending,

    /// <summary>The fragment was refused, and with it whatever had been collected of its datagram.</summary>
    Dropped,
}

/// <summary>What <see cref="FragmentBuffer.Add"/> made of one fragment.</summary>
internal enum FragmentVerdict
{
    Accepted,
    Complete,
    Duplicate,
    Overlap,
    TooLarge,
    TooManyFragments,
    Malformed,
}
