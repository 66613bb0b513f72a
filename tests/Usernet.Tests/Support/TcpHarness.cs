using Usernet.Platform;
using Usernet.Stack;
using Usernet.Stack.Tcp;
using Usernet.Wire;

namespace Usernet.Tests.Support;

/// <summary>
/// A <see cref="NetworkStack"/> with its <see cref="TcpTransport"/> in memory: guest frames go
/// in through one link, every frame the stack sends is kept, host sockets are
/// <see cref="FakeTcpHostSocket"/>s from a <see cref="FakeTcpConnector"/>, and time moves only
/// when the test moves it. Each input is one loop batch: the ACKs it queued go out at its end,
/// as the loop's after-dispatch hook sends them.
/// </summary>
internal sealed class TcpHarness
{
    public static readonly Instant Start = Instant.FromMilliseconds(1_000);

    /// <summary>A remote host out in the world (198.18.0.0/15, the test range).</summary>
    public static readonly IpEndpoint Remote = new(Ipv4Address.Parse("198.18.0.1"), 80);

    public static readonly IpEndpoint RemoteV6 = new(Ipv6Address.Parse("2001:db8::1"), 80);

    public TcpHarness(TcpOptions? options = null, int linkMtu = 1500, StackOptions? stackOptions = null)
    {
        TcpTransport? tcp = null;
        var stack = new StackHarness(stackOptions, linkMtu, build => tcp = build.Tcp(s => new TcpTransport(s, Timers, Connector, options ?? new TcpOptions())), Timers);
        (Stack, Link, Sent, Tcp) = (stack.Stack, stack.Link, stack.Sent, tcp!);
    }

    public NetworkStack Stack { get; }

    public RecordingLink Link { get; }

    public RecordingTransmitter Sent { get; }

    public TimerQueue Timers { get; } = new();

    public FakeTcpConnector Connector { get; } = new();

    public TcpTransport Tcp { get; }

    public TcpCounters Counters => Tcp.Counters;

    public StackCounters StackCounters => Stack.Counters;

    public Instant Now { get; private set; } = Start;

    /// <summary>Hands a frame to the stack within the current batch: the ACKs it queues wait for <see cref="EndBatch"/>.</summary>
    public void Receive(byte[] frame) => Stack.Receive(frame, Link, Now);

    /// <summary>Ends a loop batch: the ACKs gathered in it go out.</summary>
    public void EndBatch() => Tcp.FlushAcks(Now);

    /// <summary>A frame from the guest as a batch of its own.</summary>
    public void Deliver(byte[] frame)
    {
        Receive(frame);
        EndBatch();
    }

    /// <summary>A host socket's event (connected, readable, writable, failed) as a batch of its own.</summary>
    public void OnHost(Action<Instant> hostEvent)
    {
        hostEvent(Now);
        EndBatch();
    }

    /// <summary>Moves time on by <paramref name="span"/>, waking at every timer deadline on the way, as the loop would.</summary>
    public void Advance(TimeSpan span) => RunUntil(Now + span);

    /// <summary>
    /// The loop's next wake-up with nothing else to do: the clock moves on by the least step
    /// there is, as it does between two real wake-ups, and what is due runs.
    /// </summary>
    public void NextTurn() => RunUntil(new Instant(Now.Nanoseconds + 1));

    public void RunUntil(Instant until)
    {
        for (int wakeups = 0; Timers.NextDue <= until; wakeups++)
        {
            Assert.True(wakeups < 100_000, "the timers never settle");
            if (Timers.NextDue > Now)
            {
                Now = Timers.NextDue;
            }
            Timers.RunDue(Now);
            EndBatch();
        }
        Now = until;
    }

    /// <summary>The TCP segments sent since the last call (any other frame fails the test).</summary>
    public List<SentSegment> TakeSegments() => Sent.Take().Select(SentSegment.Parse).ToList();

    public SentSegment TakeOne() => Assert.Single(TakeSegments());

    public void AssertNothingSent()
    {
        var frames = Sent.Take();
        Assert.True(frames.Count == 0, $"sent: {string.Join("; ", frames.Select(Describe))}");
    }

    /// <summary>Recognisable test data: byte i is (<paramref name="start"/> + i) mod 251, so offsets show in a mismatch.</summary>
    public static byte[] Bytes(int length, int start = 0)
    {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)((start + i) % 251);
        }
        return data;
    }

    /// <summary>The one connection the transport has (tests that need its state).</summary>
    public TcpConnection Connection(TcpFlowKey key) => Assert.Single(Tcp.Connections, c => c.Key == key);

    private static string Describe(byte[] frame) =>
        SentSegment.TryParse(frame, out var segment) ? segment!.ToString() : Convert.ToHexString(frame);
}
