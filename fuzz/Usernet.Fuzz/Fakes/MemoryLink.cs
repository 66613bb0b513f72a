using Usernet.Link;
using Usernet.Platform;

namespace Usernet.Fuzz.Fakes;

/// <summary>
/// A guest link in memory. It counts what the stack sends, shows each frame to
/// <paramref name="sequences"/>, and keeps the frames only when asked to (the probe's link),
/// so that a long input costs no memory here.
/// </summary>
internal sealed class MemoryLink(string description, bool keep = false, StackSequences? sequences = null) : FrameLink(description, EthernetMtu)
{
    private const int EthernetMtu = 1500;

    public List<byte[]> Sent { get; } = new();

    public override void Send(ReadOnlySpan<byte> frame)
    {
        Counters.FramesOut++;
        sequences?.Observe(frame);
        if (keep)
        {
            Sent.Add(frame.ToArray());
        }
    }

    // Frames are handed to the switch by the target, not read from an fd.
    public override void Start(EventLoop loop, IFrameReceiver receiver)
    {
    }

    protected override void Close()
    {
    }
}
