using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Tests.Platform;

/// <summary>
/// Polling before sleeping (loop.pollMicroseconds): the loop polls only within the window that
/// follows a wake-up with events, and sleeps once the window has passed, so that a Usernet
/// without traffic spends no CPU; and not within a window of bulk traffic. The
/// windows are long (200 ms) so that a loaded machine cannot make the test wrong; the loop runs
/// on the test thread.
/// </summary>
public sealed unsafe class EventLoopPollTests : IDisposable
{
    private const long Window = 200_000_000;

    private readonly EventLoop _loop = new() { PollBeforeSleepNs = Window };
    private readonly int _fd = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
    private readonly Reader _reader;

    public EventLoopPollTests()
    {
        Assert.True(_fd >= 0);
        _reader = new Reader(_fd, _loop);
        _loop.Register(_fd, PollEvents.Readable, _reader);
    }

    public void Dispose()
    {
        _loop.Dispose();
        Libc.Close(_fd);
    }

    private sealed class Reader(int fd, EventLoop loop) : IPollHandler
    {
        public int Events { get; private set; }

        /// <summary>Frame bytes each event stands for, as a link would count them.</summary>
        public int FrameBytes { get; set; } = 64;

        public void OnPoll(PollEvents events, Instant now)
        {
            ulong value;
            Libc.Read(fd, (byte*)&value, sizeof(ulong));
            Events++;
            loop.CountFrame(FrameBytes);
        }

        public void OnFault(Instant now)
        {
        }
    }

    private void Signal()
    {
        ulong one = 1;
        Assert.Equal(sizeof(ulong), (int)Libc.Write(_fd, (byte*)&one, sizeof(ulong)));
    }

    [Fact]
    public void ALoopThatHasSeenNoEventsSleepsWithoutPolling()
    {
        _loop.RunOnce(20);
        _loop.RunOnce(20);
        Assert.Equal(0, _loop.Polls);
    }

    [Fact]
    public void AfterEventsTheLoopPollsThroughTheWindowThenSleeps()
    {
        Signal();
        _loop.RunOnce(1000);
        Assert.Equal(1, _reader.Events);
        Assert.Equal(0, _loop.Polls);

        // Nothing comes: the loop polls until the window since the event closes, then waits 1 ms.
        _loop.RunOnce(1);
        long polled = _loop.Polls;
        Assert.True(polled > 0);

        // The window has passed: no more polling until events come again.
        _loop.RunOnce(1);
        _loop.RunOnce(1);
        Assert.Equal(polled, _loop.Polls);
    }

    [Fact]
    public void AnEventWaitingAfterTheLastIsTakenByTheFirstPoll()
    {
        Signal();
        _loop.RunOnce(1000);
        Signal();
        _loop.RunOnce(1000);
        Assert.Equal(2, _reader.Events);
        Assert.Equal(1, _loop.Polls);
    }

    [Fact]
    public void AWakeUpThatMovedBulkTrafficSleepsWithoutPolling()
    {
        _reader.FrameBytes = EventLoop.BulkFrameBytesPerWakeup;
        Signal();
        _loop.RunOnce(1000);
        _loop.RunOnce(1);
        Assert.Equal(0, _loop.Polls);

        // A small wake-up within the window of bulk traffic (an ACK between two batches) does
        // not poll either.
        _reader.FrameBytes = 64;
        Signal();
        _loop.RunOnce(1000);
        _loop.RunOnce(1);
        Assert.Equal(0, _loop.Polls);

        // Once a window has passed without bulk traffic, small exchanges poll again.
        Thread.Sleep(TimeSpan.FromTicks(Window / 100 * 3 / 2));
        Signal();
        _loop.RunOnce(1000);
        Assert.Equal(3, _reader.Events);
        _loop.RunOnce(1);
        Assert.True(_loop.Polls > 0);
    }

    [Fact]
    public void AZeroWindowNeverPolls()
    {
        _loop.PollBeforeSleepNs = 0;
        Signal();
        _loop.RunOnce(1000);
        _loop.RunOnce(1);
        Assert.Equal(0, _loop.Polls);
    }
}
