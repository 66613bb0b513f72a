using System.Buffers;

namespace Usernet.Stack.Tcp;

/// <summary>
/// How much guest data all connections together may hold while their host sockets are full.
/// When it is spent, further data is dropped and the guest resends it, as it would over a lossy link.
/// </summary>
internal sealed class BacklogBudget(long limit)
{
    public long Limit { get; } = limit;

    public long InUse { get; private set; }

    public bool TryTake(int bytes)
    {
        if (InUse + bytes > Limit)
        {
            return false;
        }
        InUse += bytes;
        return true;
    }

    public void Give(int bytes) => InUse -= bytes;
}

/// <summary>
/// Guest data we acknowledged (it was inside the window we offered) but the host socket could
/// not take yet. It exists because an offered window is a promise: the socket's free space can
/// shrink after we offered it, and dropping data inside the window would stall the guest for a
/// retransmission timeout. Empty almost always; it never holds more than one offered window.
/// </summary>
internal sealed class GuestDataBacklog(BacklogBudget budget)
{
    private byte[]? _buffer;
    private int _start;
    private int _length;

    public int Length => _length;

    /// <summary>Keeps as much of <paramref name="data"/> as the budget allows; returns how much.</summary>
    public int Append(ReadOnlySpan<byte> data)
    {
        int take = data.Length;
        while (take > 0 && !budget.TryTake(take))
        {
            take /= 2;
        }
        if (take == 0)
        {
            return 0;
        }
        EnsureRoom(take);
        data[..take].CopyTo(_buffer.AsSpan(_start + _length));
        _length += take;
        return take;
    }

    /// <summary>Writes what it can to the host socket; returns false if the socket failed.</summary>
    public bool Drain(ITcpHostSocket host)
    {
        while (_length > 0)
        {
            int written = host.Write(_buffer.AsSpan(_start, _length));
            if (written == ITcpHostSocket.Failed)
            {
                return false;
            }
            if (written == 0)
            {
                return true;
            }
            _start += written;
            _length -= written;
            budget.Give(written);
        }
        Release();
        return true;
    }

    /// <summary>Drops everything (the connection ended) and returns the memory.</summary>
    public void Clear()
    {
        budget.Give(_length);
        _length = 0;
        Release();
    }

    private void EnsureRoom(int more)
    {
        if (_buffer is not null && _start + _length + more <= _buffer.Length)
        {
            return;
        }
        if (_buffer is not null && _length + more <= _buffer.Length)
        {
            _buffer.AsSpan(_start, _length).CopyTo(_buffer);
            _start = 0;
            return;
        }
        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_length + more, 64 * 1024));
        if (_buffer is not null)
        {
            _buffer.AsSpan(_start, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
        }
        _buffer = larger;
        _start = 0;
    }

    private void Release()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
        _start = 0;
    }
}
