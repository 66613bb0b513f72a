using Usernet.Link;

namespace Usernet.Tests.Support;

/// <summary>Keeps a copy of every frame a link delivers, and why it closed.</summary>
internal sealed class RecordingReceiver : IFrameReceiver
{
    public List<byte[]> Frames { get; } = new();

    public string? ClosedReason { get; private set; }

    public int Closes { get; private set; }

    public void OnFrame(FrameLink link, Span<byte> frame, Instant now, ReceivedChecksum checksum = default) => Frames.Add(frame.ToArray());

    public void OnLinkClosed(FrameLink link, string reason)
    {
        Closes++;
        ClosedReason = reason;
    }
}
