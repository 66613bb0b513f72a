namespace Usernet.Services.Proxy;

/// <summary>
/// The bytes of buffers all proxy connections together may hold (<see cref="ProxyLimits.MaxBufferedBytes"/>).
/// A connection takes before it allocates and gives back when it ends; what does not fit is
/// refused, never waited for, so a full budget can only slow new work down, not hang it.
/// Used from pool threads, so with Interlocked.
/// </summary>
internal sealed class ProxyBuffers(long limit)
{
    private long _inUse;

    public long Limit { get; } = limit;

    public long InUse => Interlocked.Read(ref _inUse);

    /// <summary>Takes <paramref name="bytes"/> if they fit under the limit.</summary>
    public bool TryTake(long bytes)
    {
        long current = Interlocked.Read(ref _inUse);
        while (true)
        {
            if (current + bytes > Limit)
            {
                return false;
            }
            long seen = Interlocked.CompareExchange(ref _inUse, current + bytes, current);
            if (seen == current)
            {
                return true;
            }
            current = seen;
        }
    }

    public void Give(long bytes) => Interlocked.Add(ref _inUse, -bytes);
}
