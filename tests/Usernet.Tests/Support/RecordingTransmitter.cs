using Usernet.Link;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>Stands for the switch below a stack: keeps a copy of every frame the stack sends.</summary>
internal sealed class RecordingTransmitter : IFrameTransmitter
{
    public List<byte[]> Frames { get; } = new();

    /// <summary>The links the stack may address frames to (router advertisements go per link).</summary>
    public List<FrameLink> AttachedLinks { get; } = new();

    public IReadOnlyList<FrameLink> Links => AttachedLinks;

    /// <summary>No addresses are bound below a recording transmitter.</summary>
    public FrameLink? LinkOf(IpAddress guest) => null;

    /// <summary>
    /// Keeps the frame as a link without checksum offload would get it: a checksum the stack
    /// left partial is completed first, as the switch does, so that tests read whole checksums.
    /// </summary>
    public void Transmit(Span<byte> frame, PartialChecksum checksum = default)
    {
        Assert.True(checksum.Complete(frame), "partial checksum positions outside the frame");
        Frames.Add(frame.ToArray());
    }

    public void TransmitTo(FrameLink link, Span<byte> frame, PartialChecksum checksum = default) => Transmit(frame, checksum);

    /// <summary>The frames sent since the last call, which are then forgotten.</summary>
    public List<byte[]> Take()
    {
        var taken = Frames.ToList();
        Frames.Clear();
        return taken;
    }
}
