using System.Buffers.Binary;
using Usernet.Link;
using Usernet.Platform;
using Usernet.Tests.Support;

namespace Usernet.Tests.Link;

/// <summary>QEMU stream framing over a real socketpair, the loop run by the test thread.</summary>
public sealed class StreamLinkTests : IDisposable
{
    private readonly SocketPair _sockets = new();
    private readonly EventLoop _loop = new();
    private readonly RecordingReceiver _receiver = new();
    private readonly StreamLink _link;

    public StreamLinkTests()
    {
        _link = new StreamLink(_sockets.TakeLocal(), "qemu test");
        _link.Start(_loop, _receiver);
    }

    public void Dispose()
    {
        _link.Dispose();
        _sockets.Dispose();
        _loop.Dispose();
    }

    /// <summary>A frame that says which it is: its index, then bytes counting from it.</summary>
    private static byte[] Frame(int index, int length)
    {
        byte[] frame = new byte[length];
        for (int i = 0; i < length; i++)
        {
            frame[i] = (byte)(index + i);
        }
        if (length >= 4)
        {
            BinaryPrimitives.WriteInt32BigEndian(frame, index);
        }
        return frame;
    }

    /// <summary>Frames as QEMU writes them: a 4-byte big-endian length before each.</summary>
    private static byte[] Framed(params byte[][] frames)
    {
        var stream = new List<byte>();
        foreach (byte[] frame in frames)
        {
            byte[] prefix = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)frame.Length);
            stream.AddRange(prefix);
            stream.AddRange(frame);
        }
        return stream.ToArray();
    }

    /// <summary>Splits a QEMU stream back into frames; the stream must end on a frame boundary.</summary>
    private static List<byte[]> Unframe(byte[] stream)
    {
        var frames = new List<byte[]>();
        for (int offset = 0; offset < stream.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(stream.AsSpan(offset));
            frames.Add(stream.AsSpan(offset + 4, length).ToArray());
            offset += 4 + length;
        }
        return frames;
    }

    /// <summary>Runs the loop until <paramref name="done"/>, a bounded number of times.</summary>
    private void RunUntil(Func<bool> done, int rounds = 200)
    {
        for (int i = 0; i < rounds && !done(); i++)
        {
            _loop.RunOnce(20);
        }
        Assert.True(done(), "the loop did not get there");
    }

    /// <summary>Writes all of <paramref name="data"/>, running the loop whenever the socket is full.</summary>
    private void WriteAll(ReadOnlySpan<byte> data)
    {
        for (int rounds = 0; data.Length > 0; rounds++)
        {
            Assert.True(rounds < 10_000);
            int n = _sockets.TryWrite(data);
            data = data[n..];
            if (n == 0)
            {
                _loop.RunOnce(20);
            }
        }
    }

    [Fact]
    public void AFrameSplitAcrossWritesArrivesWhole()
    {
        byte[] frame = Frame(1, 1000);
        byte[] stream = Framed(frame);
        WriteAll(stream.AsSpan(0, 2));
        _loop.RunOnce(20);
        WriteAll(stream.AsSpan(2, 500));
        _loop.RunOnce(20);
        Assert.Empty(_receiver.Frames);

        WriteAll(stream.AsSpan(502));
        RunUntil(() => _receiver.Frames.Count == 1);
        Assert.Equal(frame, _receiver.Frames[0]);
        Assert.Equal(1, _link.Counters.FramesIn);
        Assert.Equal(1000, _link.Counters.BytesIn);
    }

    [Fact]
    public void SeveralFramesInOneWriteArriveInOrder()
    {
        byte[][] frames = [Frame(1, 60), Frame(2, 1514), Frame(3, 42)];
        WriteAll(Framed(frames));
        RunUntil(() => _receiver.Frames.Count == 3);
        Assert.Equal(frames, _receiver.Frames);
    }

    [Fact]
    public void ARandomlyCutStreamOfManyFramesArrivesIntact()
    {
        var random = new Random(3);
        byte[][] frames = Enumerable.Range(0, 500).Select(i => Frame(i, random.Next(14, 9000))).ToArray();
        byte[] stream = Framed(frames);
        for (int offset = 0; offset < stream.Length;)
        {
            int length = Math.Min(random.Next(1, 20_000), stream.Length - offset);
            WriteAll(stream.AsSpan(offset, length));
            offset += length;
            _loop.RunOnce(0);
        }
        RunUntil(() => _receiver.Frames.Count == frames.Length);
        for (int i = 0; i < frames.Length; i++)
        {
            // Byte spans rather than Assert.Equal on 2 MB of collections, which takes a second.
            Assert.True(frames[i].AsSpan().SequenceEqual(_receiver.Frames[i]), $"frame {i} differs");
        }
    }

    [Fact]
    public void TheLargestFrameArrives()
    {
        byte[] frame = Frame(9, FrameLink.MaxFrameLength);
        WriteAll(Framed(frame));
        RunUntil(() => _receiver.Frames.Count == 1);
        Assert.Equal(frame, _receiver.Frames[0]);
    }

    [Fact]
    public void ALengthBeyondTheMaximumClosesTheLinkWithAReason()
    {
        // Framing lost for good (or not QEMU at all): nothing after it can be trusted.
        WriteAll(Framed(Frame(1, 100)));
        byte[] bad = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(bad, FrameLink.MaxFrameLength + 1);
        WriteAll(bad);
        RunUntil(() => _link.IsClosed);

        Assert.Single(_receiver.Frames);
        Assert.Equal(1, _receiver.Closes);
        Assert.Contains($"frame length {FrameLink.MaxFrameLength + 1} exceeds", _receiver.ClosedReason);
        Assert.Equal(1, _link.Counters.ErrorsIn);
        // The fd is closed: the peer sees the end of the stream.
        Assert.Null(_sockets.ReadAvailable());
    }

    [Fact]
    public void ThePeerClosingReportsTheLinkClosed()
    {
        byte[] partial = Framed(Frame(1, 100))[..50];
        WriteAll(partial);
        _sockets.ClosePeer();
        RunUntil(() => _link.IsClosed);
        Assert.Equal(1, _receiver.Closes);
        Assert.Equal("the peer closed the connection", _receiver.ClosedReason);
        Assert.Empty(_receiver.Frames);
        Assert.Equal(0, _link.Counters.ErrorsIn);
    }

    [Fact]
    public void SendAndFlushWriteQemuFraming()
    {
        byte[][] frames = [Frame(1, 60), Frame(2, 1514)];
        foreach (byte[] frame in frames)
        {
            _link.Send(frame);
        }
        // Batched until the loop's flush.
        Assert.Empty(_sockets.ReadAvailable()!);
        _link.Flush();

        byte[] stream = _sockets.ReadAvailable()!;
        Assert.Equal(Framed(frames), stream);
        Assert.Equal(2, _link.Counters.FramesOut);
        Assert.Equal(60 + 1514, _link.Counters.BytesOut);
    }

    [Fact]
    public void AFullSendBufferDropsAndCountsInsteadOfBlocking()
    {
        // The peer reads nothing: the socket fills, then the link's own 2 MiB, then frames drop.
        const int Count = 100;
        for (int i = 0; i < Count; i++)
        {
            _link.Send(Frame(i, FrameLink.MaxFrameLength));
            _link.Flush();
        }
        Assert.True(_link.Counters.DroppedOut > 0);
        Assert.Equal(Count, _link.Counters.FramesOut + _link.Counters.DroppedOut);
        Assert.False(_link.IsClosed);

        // Once the peer reads, the loop writes the rest when the socket is writable again;
        // what was not dropped arrives whole and in order.
        var stream = new List<byte>();
        long expected = _link.Counters.FramesOut * (4L + FrameLink.MaxFrameLength);
        RunUntil(() =>
        {
            stream.AddRange(_sockets.ReadAvailable()!);
            return stream.Count == expected;
        }, rounds: 2_000);
        var frames = Unframe(stream.ToArray());
        Assert.Equal(_link.Counters.FramesOut, frames.Count);
        int previous = -1;
        foreach (byte[] frame in frames)
        {
            int index = BinaryPrimitives.ReadInt32BigEndian(frame);
            Assert.True(index > previous);
            Assert.True(Frame(index, FrameLink.MaxFrameLength).AsSpan().SequenceEqual(frame), $"frame {index} differs");
            previous = index;
        }
    }

    [Fact]
    public void SendAfterCloseIsIgnored()
    {
        _link.Dispose();
        _link.Send(Frame(1, 60));
        _link.Flush();
        Assert.Equal(0, _link.Counters.FramesOut);
        Assert.Equal(0, _link.Counters.DroppedOut);
    }
}
