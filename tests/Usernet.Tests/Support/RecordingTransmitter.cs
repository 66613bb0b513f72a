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

    public void Transmit(ReadOnlySpan<byte> frame) => Frames.Add(frame.ToArray());

    public void TransmitTo(FrameLink link, ReadOnlySpan<byte> frame) => Frames.Add(frame.ToArray());

    /// <summary>The frames sent since the last call, which are then forgotten.</summary>
    public List<byte[]> Take()
    {
        var taken = Frames.ToList();
        Frames.Clear();
        return taken;
    }
}
