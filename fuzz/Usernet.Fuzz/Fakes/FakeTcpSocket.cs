using Usernet.Stack.Tcp;

namespace Usernet.Fuzz.Fakes;

/// <summary>
/// A host TCP socket in memory. The host peer's data waits in a queue the engine peeks into
/// and discards from, as from a kernel socket, and the send buffer is small so that writes
/// come up short. What the engine must never do (peek or discard past the queue, write after
/// shutdown, use a closed socket) fails the property.
/// </summary>
internal sealed class FakeTcpSocket(ITcpHostEvents events) : ITcpHostSocket
{
    private const int SendBufferSize = 16 * 1024;

    /// <summary>What the host peer may have queued at once: the input cannot make a target hold much.</summary>
    private const int MaxQueued = 64 * 1024;

    private byte[] _fromPeer = [];
    private int _start;
    private int _end;
    private int _unread;
    private bool _shutDown;

    public ITcpHostEvents Events => events;

    public bool PeerFinished { get; private set; }

    /// <summary>The connect completed: from then on the socket reports data, room and errors.</summary>
    public bool Connected { get; set; }

    /// <summary>The connect failed, or the socket reported an error: it reports nothing more.</summary>
    public bool Failed { get; set; }

    public bool Closed { get; private set; }

    public TcpHostError Error { get; set; }

    public bool Broken { get; set; }

    public void PeerSends(ReadOnlySpan<byte> data)
    {
        if (PeerFinished || Closed)
        {
            return;
        }
        if (_fromPeer.Length == 0)
        {
            _fromPeer = new byte[MaxQueued];
        }
        _fromPeer.AsSpan(_start, Queued).CopyTo(_fromPeer);
        (_start, _end) = (0, Queued);
        int count = Math.Min(data.Length, MaxQueued - _end);
        data[..count].CopyTo(_fromPeer.AsSpan(_end));
        _end += count;
    }

    private int Queued => _end - _start;

    public void PeerCloses() => PeerFinished = true;

    public void PeerReads() => _unread = 0;

    public bool EndsAt(int offset) => PeerFinished && !Closed && !Broken && offset == Queued;

    public int Peek(int offset, Span<byte> destination)
    {
        PropertyException.Check(!Closed, "peek on a closed host socket");
        if (Broken)
        {
            return ITcpHostSocket.Failed;
        }
        PropertyException.Check(offset >= 0 && offset <= Queued, $"peek at {offset} past the {Queued} queued bytes");
        if (offset == Queued)
        {
            return PeerFinished ? 0 : ITcpHostSocket.WouldBlock;
        }
        int count = Math.Min(destination.Length, Queued - offset);
        _fromPeer.AsSpan(_start + offset, count).CopyTo(destination);
        return count;
    }

    public void Discard(int count)
    {
        PropertyException.Check(!Closed, "discard on a closed host socket");
        PropertyException.Check(count > 0 && count <= Queued, $"discard of {count} with {Queued} queued");
        _start += count;
    }

    public int Write(ReadOnlySpan<byte> data)
    {
        PropertyException.Check(!Closed, "write on a closed host socket");
        PropertyException.Check(!_shutDown, "write after shutdown");
        if (Broken)
        {
            return ITcpHostSocket.Failed;
        }
        int taken = Math.Min(data.Length, WritableSpace);
        _unread += taken;
        return taken;
    }

    public int WritableSpace => SendBufferSize - _unread;

    public void OnGuestAccepted(Instant now)
    {
    }

    public void ShutdownWrite()
    {
        PropertyException.Check(!Closed, "shutdown of a closed host socket");
        _shutDown = true;
    }

    public void Close(bool reset)
    {
        PropertyException.Check(!Closed, "a host socket closed twice");
        Closed = true;
    }
}
