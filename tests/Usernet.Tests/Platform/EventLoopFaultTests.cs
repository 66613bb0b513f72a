using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Tests.Platform;

/// <summary>
/// What the loop does when a handler throws: the event is lost and counted, and the handler
/// keeps its place (it used to be unregistered and disposed, which for a link meant every
/// guest behind it). The fds are eventfds the test signals; the loop runs on the test thread.
/// </summary>
public sealed unsafe class EventLoopFaultTests : IDisposable
{
    private readonly EventLoop _loop = new();
    private readonly List<int> _fds = new();

    public void Dispose()
    {
        _loop.Dispose();
        foreach (int fd in _fds)
        {
            Libc.Close(fd);
        }
    }

    /// <summary>Counts its events and faults; throws while told to.</summary>
    private sealed class ThrowingHandler(int fd) : IPollHandler
    {
        public int Events { get; private set; }

        public int FaultsSeen { get; private set; }

        public bool ThrowInPoll { get; set; } = true;

        public bool ThrowInFault { get; set; }

        public void OnPoll(PollEvents events, Instant now)
        {
            ulong value;
            Libc.Read(fd, (byte*)&value, sizeof(ulong));
            Events++;
            if (ThrowInPoll)
            {
                throw new InvalidOperationException("a bug in a handler");
            }
        }

        public void OnFault(Instant now)
        {
            FaultsSeen++;
            if (ThrowInFault)
            {
                throw new InvalidOperationException("a bug in its recovery too");
            }
        }
    }

    private (ThrowingHandler Handler, int Fd) Register()
    {
        int fd = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        Assert.True(fd >= 0);
        _fds.Add(fd);
        var handler = new ThrowingHandler(fd);
        _loop.Register(fd, PollEvents.Readable, handler);
        return (handler, fd);
    }

    private static void Signal(int fd)
    {
        ulong one = 1;
        Assert.Equal(sizeof(ulong), Libc.Write(fd, (byte*)&one, sizeof(ulong)));
    }

    [Fact]
    public void AHandlerThatThrowsLosesTheEventAndKeepsItsPlace()
    {
        var (handler, fd) = Register();
        Signal(fd);
        _loop.RunOnce(1000);
        Assert.Equal(1, handler.Events);
        Assert.Equal(1, handler.FaultsSeen);
        Assert.Equal(1, _loop.Faults.Count("poll ThrowingHandler", nameof(InvalidOperationException)));

        handler.ThrowInPoll = false;
        Signal(fd);
        _loop.RunOnce(1000);
        Assert.Equal(2, handler.Events);
        Assert.Equal(1, _loop.Faults.Total);
    }

    [Fact]
    public void AHandlerWhoseRecoveryThrowsTooGetsNoMoreEvents()
    {
        // Otherwise a handler that faults on every event would fault forever.
        var (handler, fd) = Register();
        handler.ThrowInFault = true;
        Signal(fd);
        _loop.RunOnce(1000);
        Assert.Equal(2, _loop.Faults.Count("poll ThrowingHandler", nameof(InvalidOperationException)));

        Signal(fd);
        _loop.RunOnce(50);
        Assert.Equal(1, handler.Events);
    }

    [Fact]
    public void OneHandlerThrowingDoesNotCostTheOthersTheirEvents()
    {
        var (throwing, throwingFd) = Register();
        var (quiet, quietFd) = Register();
        quiet.ThrowInPoll = false;
        Signal(throwingFd);
        Signal(quietFd);
        _loop.RunOnce(1000);
        Assert.Equal(1, throwing.Events);
        Assert.Equal(1, quiet.Events);
    }

    [Fact]
    public void PostedWorkThatThrowsIsCountedAndTheRestRuns()
    {
        bool ran = false;
        _loop.Post(_ => throw new ArgumentException("posted bug"));
        _loop.Post(_ => ran = true);
        _loop.RunOnce(1000);
        Assert.True(ran);
        Assert.Equal(1, _loop.Faults.Count("posted", nameof(ArgumentException)));
    }
}
