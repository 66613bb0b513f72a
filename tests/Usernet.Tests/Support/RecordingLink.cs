using Usernet.Link;
using Usernet.Platform;

namespace Usernet.Tests.Support;

/// <summary>A guest link in memory: what is sent to it is kept, in order, for the test to read.</summary>
internal sealed class RecordingLink(string description = "test link", int defaultMtu = 1500) : FrameLink(description, defaultMtu)
{
    public List<byte[]> Sent { get; } = new();

    public int Flushes { get; private set; }

    public override void Send(ReadOnlySpan<byte> frame)
    {
        Counters.FramesOut++;
        Sent.Add(frame.ToArray());
    }

    public override void Flush() => Flushes++;

    // Nothing to poll: the test hands frames to the receiver itself.
    public override void Start(EventLoop loop, IFrameReceiver receiver)
    {
    }

    protected override void Close()
    {
    }
}
