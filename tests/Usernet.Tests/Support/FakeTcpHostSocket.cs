using Usernet.Stack.Tcp;

namespace Usernet.Tests.Support;

/// <summary>
/// A host socket in memory for the TCP engine. What the host peer sends waits in a receive
/// queue that the engine peeks into at an offset and discards from, as from a kernel socket;
/// what the engine writes is kept, and a send buffer of <see cref="SendBufferSize"/> bytes
/// fills until the host peer reads (<see cref="PeerReads"/>), so writes can come up short.
/// Misuse by the engine (peeking or discarding past what is queued, writing after shutdown,
/// using a closed socket) fails the test at once.
/// </summary>
internal sealed class FakeTcpHostSocket(ITcpHostEvents events) : ITcpHostSocket
{
    private readonly List<byte> _fromPeer = new();
    private readonly List<byte> _written = new();

    /// <summary>The connection this socket reports to, for the test to raise its events.</summary>
    public ITcpHostEvents Events => events;

    /// <summary>Bytes from the host peer not yet discarded (sent to the guest or not).</summary>
    public int Queued => _fromPeer.Count;

    /// <summary>Whether the host peer has closed its side: after the queued data, the stream ends.</summary>
    public bool PeerFinished { get; private set; }

    /// <summary>Every Discard call's count, in order.</summary>
    public List<int> Discards { get; } = new();

    /// <summary>Everything the engine wrote, in order.</summary>
    public byte[] Written => _written.ToArray();

    /// <summary>How much written data may wait for the host peer to read it.</summary>
    public int SendBufferSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>Written data the host peer has not read yet.</summary>
    public int Unread { get; private set; }

    /// <summary>When set, Peek and Write fail, as on a socket that got an error.</summary>
    public bool Broken { get; set; }

    public TcpHostError Error { get; set; }

    public int ShutdownWrites { get; private set; }

    /// <summary>Null while open; then whether it was closed with a reset.</summary>
    public bool? ClosedWithReset { get; private set; }

    public bool IsClosed => ClosedWithReset is not null;

    public void PeerSends(ReadOnlySpan<byte> data)
    {
        Assert.False(PeerFinished, "the host peer already closed its side");
        foreach (byte b in data)
        {
            _fromPeer.Add(b);
        }
    }

    public void PeerCloses() => PeerFinished = true;

    /// <summary>The host peer reads <paramref name="count"/> written bytes (all when null), making room.</summary>
    public void PeerReads(int? count = null) => Unread -= Math.Min(count ?? Unread, Unread);

    public bool EndsAt(int offset) => PeerFinished && offset == _fromPeer.Count;

    public int Peek(int offset, Span<byte> destination)
    {
        Assert.False(IsClosed, "peek on a closed socket");
        if (Broken)
        {
            return ITcpHostSocket.Failed;
        }
        Assert.True(offset <= _fromPeer.Count, $"peek at {offset} past the {_fromPeer.Count} queued bytes");
        if (offset == _fromPeer.Count)
        {
            return PeerFinished ? 0 : ITcpHostSocket.WouldBlock;
        }
        int count = Math.Min(destination.Length, _fromPeer.Count - offset);
        for (int i = 0; i < count; i++)
        {
            destination[i] = _fromPeer[offset + i];
        }
        return count;
    }

    public void Discard(int count)
    {
        Assert.False(IsClosed, "discard on a closed socket");
        Assert.True(count > 0 && count <= _fromPeer.Count, $"discard of {count} with {_fromPeer.Count} queued");
        _fromPeer.RemoveRange(0, count);
        Discards.Add(count);
    }

    public int Write(ReadOnlySpan<byte> data)
    {
        Assert.False(IsClosed, "write on a closed socket");
        Assert.True(ShutdownWrites == 0, "write after shutdown");
        if (Broken)
        {
            return ITcpHostSocket.Failed;
        }
        int taken = Math.Min(data.Length, WritableSpace);
        _written.AddRange(data[..taken].ToArray());
        Unread += taken;
        return taken;
    }

    public int WritableSpace => Math.Max(0, SendBufferSize - Unread);

    /// <summary>How often the engine said the guest accepted a connection opened into it.</summary>
    public int GuestAccepts { get; private set; }

    public void OnGuestAccepted(Instant now)
    {
        Assert.False(IsClosed, "accepted on a closed socket");
        Assert.True(_written.Count == 0 && Unread == 0, "accepted after data was written");
        GuestAccepts++;
    }

    public void ShutdownWrite()
    {
        Assert.False(IsClosed, "shutdown of a closed socket");
        ShutdownWrites++;
    }

    public void Close(bool reset)
    {
        Assert.False(IsClosed, "a socket closed twice");
        ClosedWithReset = reset;
    }
}
