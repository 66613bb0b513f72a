using Usernet.Wire;

namespace Usernet.Stack;

// Placeholder until the reassembler lands from its branch: every fragment is dropped.
internal readonly record struct ReassemblyLimits(int MaxDatagrams, int MaxFragmentsPerDatagram, TimeSpan Timeout);

internal enum ReassemblyOutcome
{
    Complete,
    Pending,
    Dropped,
}

internal sealed class Ipv4Reassembler(ReassemblyLimits limits)
{
    public ReassemblyLimits Limits { get; } = limits;

    public Instant NextExpiry => Instant.Never;

    public int PendingCount => 0;

    public ReassemblyOutcome Accept(Ipv4Packet fragment, Instant now, out Span<byte> datagram)
    {
        datagram = default;
        _ = fragment;
        _ = now;
        return ReassemblyOutcome.Dropped;
    }

    public void Expire(Instant now) => _ = now;
}
