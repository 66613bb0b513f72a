using Usernet.Platform;
using Usernet.Stack;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>
/// A <see cref="NetworkStack"/> in memory: one guest link whose frames the test hands in, and
/// every frame the stack sends kept for the test to check. Time is whatever the test passes;
/// the stack's timers run only when the test runs <see cref="Timers"/>.
/// </summary>
internal sealed class StackHarness
{
    /// <param name="build">Gives the stack its transports and services, as an instance does.</param>
    public StackHarness(StackOptions? options = null, int linkMtu = 1500, Action<NetworkStack.Builder>? build = null, TimerQueue? timers = null)
    {
        Timers = timers ?? new TimerQueue();
        var builder = new NetworkStack.Builder(options ?? new StackOptions(), Sent, Timers);
        build?.Invoke(builder);
        Stack = builder.Build();
        Link = new RecordingLink("guest", linkMtu);
    }

    /// <summary>Stack options for the addresses of the captures: the stack stands where namespace B's kernel was.</summary>
    public static StackOptions CaptureNetwork => new()
    {
        Mac = new MacAddress(0x0218_0500_000b),
        Subnet = Ipv4Cidr.Parse("198.18.5.0/24"),
        Gateway = Ipv4Address.Parse("198.18.5.2"),
        Host = Ipv4Address.Parse("198.18.5.254"),
        FirstGuest = Ipv4Address.Parse("198.18.5.3"),
    };

    public NetworkStack Stack { get; }

    public RecordingLink Link { get; }

    public RecordingTransmitter Sent { get; } = new();

    public TimerQueue Timers { get; }

    public StackCounters Counters => Stack.Counters;

    /// <summary>Hands <paramref name="frame"/> to the stack and returns what it sent in answer.</summary>
    public List<byte[]> Answer(byte[] frame, Instant now = default)
    {
        Stack.Receive(frame, Link, now);
        return Sent.Take();
    }

    /// <summary>Like <see cref="Answer"/>, for input that must get exactly one frame back.</summary>
    public byte[] AnswerOne(byte[] frame, Instant now = default) => Assert.Single(Answer(frame, now));

    /// <summary>
    /// Checks that <paramref name="frame"/> is a well-formed IPv4 frame from the stack's MAC to
    /// <paramref name="destinationMac"/>, between the given addresses.
    /// </summary>
    public static void AssertIpv4(byte[] frame, MacAddress destinationMac, Ipv4Address source, Ipv4Address destination)
    {
        Assert.True(EthernetFrame.TryParse(frame, out var ethernet));
        Assert.Equal(destinationMac, ethernet.Destination);
        Assert.Equal(TestFrames.StackMac, ethernet.Source);
        var ip = Tests.Wire.Frames.Ipv4(frame);
        Assert.Equal(source, ip.Source);
        Assert.Equal(destination, ip.Destination);
    }
}
