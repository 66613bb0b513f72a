using Usernet.Link;
using Usernet.Platform;

namespace Usernet.Tests.Support;

/// <summary>
/// A guest link in memory: what is sent to it is kept, in order, for the test to read. With
/// <paramref name="takesPartialChecksums"/> it stands for a TAP device, whose guest kernel
/// completes checksums: frames sent that way are kept apart, with their positions.
/// </summary>
internal sealed class RecordingLink(string description = "test link", int defaultMtu = 1500, bool takesPartialChecksums = false)
    : FrameLink(description, defaultMtu)
{
    public List<byte[]> Sent { get; } = new();

    public List<(byte[] Frame, PartialChecksum Checksum)> SentPartial { get; } = new();

    public override bool TakesPartialChecksums => takesPartialChecksums;

    public override void SendPartial(ReadOnlySpan<byte> frame, PartialChecksum checksum)
    {
        Assert.True(takesPartialChecksums, "a partial checksum sent to a link that takes complete ones only");
        Counters.FramesOut++;
        SentPartial.Add((frame.ToArray(), checksum));
    }

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
