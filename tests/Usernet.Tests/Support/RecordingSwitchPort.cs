using Usernet.Link;
using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>
/// Stands for the stack on a switch: keeps what reaches it and which links closed. Its
/// addresses and LAN are the default ones (192.168.65.0/24, fdc4:f303:9324::/64).
/// </summary>
internal sealed class RecordingSwitchPort(MacAddress mac) : ISwitchPort
{
    private static readonly StackOptions Network = new();

    public MacAddress Mac { get; } = mac;

    public List<(byte[] Frame, FrameLink From, bool ChecksumTrusted)> Received { get; } = new();

    public List<FrameLink> Closed { get; } = new();

    public void Receive(Span<byte> frame, FrameLink from, Instant now, bool checksumTrusted = false) =>
        Received.Add((frame.ToArray(), from, checksumTrusted));

    public void OnLinkClosed(FrameLink link) => Closed.Add(link);

    public string HandlerOf(Span<byte> frame) => "recording";
    public bool IsOwnAddress(IpAddress address) => Network.IsOwnAddress(address);

    public bool IsLanAddress(IpAddress address) => Network.IsLanAddress(address);
}
