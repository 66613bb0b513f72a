using Usernet.Link;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>Stands for the stack on a switch: keeps what reaches it and which links closed.</summary>
internal sealed class RecordingSwitchPort(MacAddress mac) : ISwitchPort
{
    public MacAddress Mac { get; } = mac;

    public List<(byte[] Frame, FrameLink From, bool ChecksumTrusted)> Received { get; } = new();

    public List<FrameLink> Closed { get; } = new();

    public void Receive(Span<byte> frame, FrameLink from, Instant now, bool checksumTrusted = false) =>
        Received.Add((frame.ToArray(), from, checksumTrusted));

    public void OnLinkClosed(FrameLink link) => Closed.Add(link);

    public string HandlerOf(Span<byte> frame) => "recording";
}
