using Usernet.Link;

namespace Usernet.Tests.Support;

/// <summary>Stands for the switch below a stack: keeps a copy of every frame the stack sends.</summary>
internal sealed class RecordingTransmitter : IFrameTransmitter
{
    public List<byte[]> Frames { get; } = new();

    public void Transmit(ReadOnlySpan<byte> frame) => Frames.Add(frame.ToArray());

    /// <summary>The frames sent since the last call, which are then forgotten.</summary>
    public List<byte[]> Take()
    {
        var taken = Frames.ToList();
        Frames.Clear();
        return taken;
    }
}
