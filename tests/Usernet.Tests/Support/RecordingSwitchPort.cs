using Usernet.Link;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>Stands for the stack on a switch: keeps what reaches it and which links closed.</summary>
internal sealed class RecordingSwitchPort(MacAddress mac) : ISwitchPort
{
    public MacAddress Mac { get; } = mac;

    public List<(byte[] Frame, FrameLink From)> Received { get; } = new();

    public List<FrameLink> Closed { get; } = new();

    public void Receive(Span<byte> frame, FrameLink from, Instant now) => Received.Add((frame.ToArray(), from));

    public void OnLinkClosed(FrameLink link) => Closed.Add(link);
}
