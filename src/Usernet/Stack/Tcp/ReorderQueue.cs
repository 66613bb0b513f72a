using System.Buffers;

namespace Usernet.Stack.Tcp;

/// <summary>
/// Guest segments that arrived past a hole, kept until the hole fills. Frames can reach Usernet
/// out of order without any loss: a guest that forwards (Docker's bridge: veth, bridge, then the
/// TAP) queues a sender's packets on the backlog of whichever CPU the sender ran on, and they
/// leave in CPU order. Without this queue each such swap made the sender resend everything after
/// the hole and halve its congestion window: container-to-host through a published port fell to
/// between 0.05 and 2.6 Gbit/s. At most <see cref="MaxSegments"/> per connection, within the
/// budget the connections' backlogs share; what does not fit is dropped, as before, and resent.
/// </summary>
internal sealed class ReorderQueue(BacklogBudget budget)
{
    public const int MaxSegments = 8;

    private Held[]? _held;
    private int _count;

    private struct Held
    {
        public SeqNumber Seq;
        public int Length;
        public byte[] Buffer;
    }

    public int Count => _count;

    /// <summary>Keeps a copy of <paramref name="payload"/>; false when the queue or the budget is full, or a segment at <paramref name="seq"/> is already held.</summary>
    public bool Hold(ReadOnlySpan<byte> payload, SeqNumber seq)
    {
        if (payload.IsEmpty || _count == MaxSegments)
        {
            return false;
        }
        _held ??= new Held[MaxSegments];
        for (int i = 0; i < _count; i++)
        {
            if (_held[i].Seq == seq)
            {
                return false;
            }
        }
        if (!budget.TryTake(payload.Length))
        {
            return false;
        }
        byte[] buffer = ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.CopyTo(buffer);
        _held[_count++] = new Held { Seq = seq, Length = payload.Length, Buffer = buffer };
        return true;
    }

    /// <summary>
    /// Takes out a held segment that starts at or before <paramref name="next"/>, the sequence
    /// the hole has filled up to; its bytes go back with <see cref="Return"/> once used.
    /// </summary>
    public bool TryTakeReady(SeqNumber next, out SeqNumber seq, out byte[] buffer, out int length)
    {
        for (int i = 0; i < _count; i++)
        {
            if (_held![i].Seq <= next)
            {
                var held = _held[i];
                _held[i] = _held[--_count];
                _held[_count] = default;
                (seq, buffer, length) = (held.Seq, held.Buffer, held.Length);
                return true;
            }
        }
        (seq, buffer, length) = (default, [], 0);
        return false;
    }

    public void Return(byte[] buffer, int length)
    {
        budget.Give(length);
        ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>Lets go of every held segment (the connection ends).</summary>
    public void Clear()
    {
        while (_count > 0)
        {
            var held = _held![--_count];
            _held[_count] = default;
            Return(held.Buffer, held.Length);
        }
    }
}
