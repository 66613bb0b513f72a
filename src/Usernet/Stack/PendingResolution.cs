using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>
/// Frames waiting for their destination's MAC while ARP or NDP asks for it, as Linux holds
/// them (unres_qlen): without this, the first SYN to a guest that has not spoken yet would be
/// lost and resent only after a retransmission timeout. Bounded in destinations and in frames
/// per destination; the oldest give way.
/// </summary>
internal sealed class PendingResolution
{
    private const int MaxDestinations = 64;
    private const int MaxFramesPerDestination = 3;

    private readonly Dictionary<IpAddress, Queue<byte[]>> _waiting = new();
    /// <summary>The destinations waiting, oldest first: a list, as there are few, so that a release can take its own out.</summary>
    private readonly List<IpAddress> _order = new();

    /// <summary>Frames given up: the oldest of a full destination, or all of the oldest destination.</summary>
    public long Dropped { get; private set; }

    public int DestinationCount => _waiting.Count;

    /// <summary>Keeps a copy of <paramref name="frame"/> (its destination MAC to be filled in later).</summary>
    public void Hold(IpAddress destination, ReadOnlySpan<byte> frame)
    {
        if (!_waiting.TryGetValue(destination, out var frames))
        {
            if (_waiting.Count >= MaxDestinations)
            {
                var oldest = _order[0];
                _order.RemoveAt(0);
                Dropped += _waiting[oldest].Count;
                _waiting.Remove(oldest);
            }
            frames = new Queue<byte[]>();
            _waiting[destination] = frames;
            _order.Add(destination);
        }
        if (frames.Count >= MaxFramesPerDestination)
        {
            frames.Dequeue();
            Dropped++;
        }
        frames.Enqueue(frame.ToArray());
    }

    /// <summary>The frames held for <paramref name="destination"/>, now that its MAC is known; they are forgotten here.</summary>
    public Queue<byte[]>? Release(IpAddress destination)
    {
        if (!_waiting.Remove(destination, out var frames))
        {
            return null;
        }
        _order.Remove(destination);
        return frames;
    }
}
