using System.Text.Json;
using Usernet.Platform;

namespace Usernet.Link;

/// <summary>What a link knows of a received frame's transport (TCP, UDP) checksum.</summary>
internal enum ReceivedChecksumState : byte
{
    /// <summary>Nothing: the receiver verifies it, as for any frame from a wire.</summary>
    Unverified,

    /// <summary>The guest's kernel vouches for it.</summary>
    Valid,

    /// <summary>
    /// Left to the receiver, as a NIC with checksum offload would be: the field holds the
    /// pseudo-header's sum only. Nothing could have damaged the frame on its way through
    /// memory, so it counts as valid, but it must be completed before the frame goes on.
    /// </summary>
    Partial,
}

/// <param name="Start">With <see cref="ReceivedChecksumState.Partial"/>: where the checksummed bytes start in the frame.</param>
/// <param name="Offset">With <see cref="ReceivedChecksumState.Partial"/>: where the checksum field is, from <paramref name="Start"/>.</param>
internal readonly record struct ReceivedChecksum(ReceivedChecksumState State, int Start = 0, int Offset = 0)
{
    /// <summary>Whether the stack may skip verifying the transport checksum.</summary>
    public bool Trusted => State != ReceivedChecksumState.Unverified;
}

/// <summary>
/// A transport checksum the stack left partial in a frame it sends, as a kernel does towards a
/// NIC with checksum offload: the field holds the pseudo-header's sum only, and whoever takes
/// the frame sums the rest. A link whose peer kernel accepts that (a TAP device through
/// virtio-net's NEEDS_CSUM) gets it as it is, and neither Usernet nor the guest reads the
/// payload for it; before any other link, a capture or a wait for ARP the switch completes it.
/// </summary>
/// <param name="Start">Where the checksummed bytes start in the frame; 0 when the checksum is complete.</param>
/// <param name="Offset">Where the checksum field is, from <paramref name="Start"/>.</param>
internal readonly record struct PartialChecksum(int Start, int Offset)
{
    /// <summary>The checksum is complete: nothing left to sum.</summary>
    public static PartialChecksum None => default;

    public bool IsPartial => Start > 0;

    /// <summary>Sums what was left, in place; false when the positions do not fit the frame.</summary>
    public bool Complete(Span<byte> frame) => !IsPartial || Wire.InternetChecksum.CompletePartial(frame, Start, Offset);
}

/// <summary>Where a link delivers what it reads.</summary>
internal interface IFrameReceiver
{
    /// <summary>A frame from the guest. The span is valid only during the call. Never throws.</summary>
    void OnFrame(FrameLink link, Span<byte> frame, Instant now, ReceivedChecksum checksum = default);

    /// <summary>The link ended (EOF, error or protocol violation); it is already closed.</summary>
    void OnLinkClosed(FrameLink link, string reason);
}

/// <summary>Counters of one link, as the control API reports them.</summary>
internal sealed class LinkCounters
{
    public long FramesIn;
    public long BytesIn;
    public long FramesOut;
    public long BytesOut;

    /// <summary>Frames we could not send because the peer's queue or ours was full.</summary>
    public long DroppedOut;

    /// <summary>Frames from the peer that were malformed at the link level (bad length prefix or virtio-net header).</summary>
    public long ErrorsIn;

    /// <summary>Writes the counters into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("framesIn", FramesIn);
        writer.WriteNumber("bytesIn", BytesIn);
        writer.WriteNumber("framesOut", FramesOut);
        writer.WriteNumber("bytesOut", BytesOut);
        writer.WriteNumber("droppedOut", DroppedOut);
        writer.WriteNumber("errorsIn", ErrorsIn);
    }
}

/// <summary>
/// One guest attachment: a TAP device, a QEMU stream connection or a datagram peer. A link
/// is lossy by design: when a queue is full the frame is dropped and counted, and TCP above
/// recovers. It never blocks the loop.
/// </summary>
internal abstract class FrameLink : IDisposable
{
    /// <summary>Largest Ethernet frame any link accepts: a 65535-byte IP packet plus header and tag.</summary>
    public const int MaxFrameLength = 65535 + 18;

    private static int s_nextId;

    protected FrameLink(string description, int defaultMtu)
    {
        Id = Interlocked.Increment(ref s_nextId);
        Description = description;
        DefaultMtu = defaultMtu;
    }

    public int Id { get; }

    /// <summary>What the link is, for logs and the API ("tap0", "qemu unix:/tmp/u.sock #2").</summary>
    public string Description { get; }

    /// <summary>The MTU this kind of link uses unless settings say otherwise.</summary>
    public int DefaultMtu { get; }

    public LinkCounters Counters { get; } = new();

    /// <summary>What the link is and its counters, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteString("link", Description);
        Counters.WriteJson(writer);
    }

    public bool IsClosed { get; private set; }

    /// <summary>
    /// Sends one frame, or drops it if the link cannot take it now. Nothing once the link is
    /// closed: its fd number may already belong to another file. It never closes the link
    /// itself, as the switch may be going through its links: a link that finds its peer gone
    /// closes after the batch.
    /// </summary>
    public abstract void Send(ReadOnlySpan<byte> frame);

    /// <summary>Whether <see cref="SendPartial"/> works: the peer's kernel completes a partial checksum itself.</summary>
    public virtual bool TakesPartialChecksums => false;

    /// <summary>
    /// Sends a frame whose transport checksum is left partial, for the guest's kernel to treat
    /// as a NIC's offloaded one. Only where <see cref="TakesPartialChecksums"/>.
    /// </summary>
    public virtual void SendPartial(ReadOnlySpan<byte> frame, PartialChecksum checksum) =>
        throw new NotSupportedException($"{Description} takes complete checksums only");

    /// <summary>Writes out frames batched by <see cref="Send"/>; called after each loop batch.</summary>
    public virtual void Flush()
    {
    }

    /// <summary>Registers the link's fd with the loop; frames go to <paramref name="receiver"/>.</summary>
    public abstract void Start(EventLoop loop, IFrameReceiver receiver);

    public void Dispose()
    {
        if (!IsClosed)
        {
            IsClosed = true;
            Close();
        }
    }

    protected abstract void Close();

    public override string ToString() => Description;
}
