namespace Usernet.Stack;

/// <summary>
/// What the stack saw and dropped. Every frame that is not used is counted under a reason,
/// so hostile or broken input shows up in <c>usernet stats</c> instead of vanishing.
/// </summary>
internal sealed class StackCounters
{
    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];

    public long FramesIn;
    public long FramesOut;
    public long ArpRepliesSent;
    public long EchoRepliesSent;
    public long IcmpErrorsSent;
    public long FragmentsSentToGuest;

    public void Drop(DropReason reason) => _drops[(int)reason]++;

    public long Dropped(DropReason reason) => _drops[(int)reason];

    public long TotalDropped => _drops.Sum();

    /// <summary>Non-zero drop counters by name, for reports.</summary>
    public IEnumerable<(string Reason, long Count)> NonZeroDrops()
    {
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            long count = _drops[(int)reason];
            if (count != 0)
            {
                yield return (reason.ToString(), count);
            }
        }
    }
}
