using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Usernet.Platform.Interop;

namespace Usernet.Platform;

/// <summary>
/// The one thread that owns the stack: an epoll loop over the link, every host socket and a
/// wake-up eventfd, with a timer queue. Other threads never touch stack state; they
/// <see cref="Post"/> work here. Each wake-up reads the clock once and passes it down.
/// </summary>
internal sealed unsafe class EventLoop : IDisposable
{
    private const int MaxEventsPerWait = 256;

    private readonly int _epoll;
    private readonly int _wakeFd;
    private readonly ConcurrentQueue<Action<Instant>> _posted = new();
    private readonly List<Action<Instant>> _afterDispatch = new();
    private readonly Stack<int> _freeSlots = new();
    private readonly Libc.EpollEvent* _events;
    private Slot[] _slots = new Slot[64];
    private int _slotCount;
    private volatile bool _stopping;
    private int _wakePending;
    private int _ownerThread = -1;

    /// <summary>When the last wait that brought events ended; long ago at first, so nothing is polled before traffic.</summary>
    private long _lastEventsNs = long.MinValue / 2;
    private long _frameBytesThisWakeup;

    /// <summary>When the last wake-up that moved bulk traffic began; long ago at first.</summary>
    private long _lastBulkNs = long.MinValue / 2;

    private struct Slot
    {
        public IPollHandler? Handler;
        public uint Generation;
        public int Fd;
    }

    public EventLoop()
    {
        _epoll = Libc.EpollCreate1(Libc.O_CLOEXEC);
        if (_epoll < 0)
        {
            throw Errno.Exception("epoll_create1");
        }
        _wakeFd = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (_wakeFd < 0)
        {
            throw Errno.Exception("eventfd");
        }
        _events = (Libc.EpollEvent*)NativeMemory.Alloc(MaxEventsPerWait, (nuint)sizeof(Libc.EpollEvent));
        var wake = new Libc.EpollEvent { Events = Libc.EPOLLIN, Data = ulong.MaxValue };
        if (Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_ADD, _wakeFd, &wake) < 0)
        {
            throw Errno.Exception("epoll_ctl(eventfd)");
        }
        Now = Libc.MonotonicNow();
        Timers = new TimerQueue(Faults);
    }

    public TimerQueue Timers { get; }

    /// <summary>
    /// How long the loop polls without sleeping after the last wake-up that brought events
    /// (0: never). In request/response traffic the next event follows within microseconds, and
    /// a thread that sleeps in epoll_wait pays a wake-up for each; one that polls does not.
    /// The window counts from the last events, so a loop that sees none stops polling after
    /// it and sleeps: an idle Usernet stays idle.
    /// </summary>
    public long PollBeforeSleepNs { get; set; }

    /// <summary>
    /// Frame bytes in one wake-up that make it bulk traffic: the loop does not poll for a
    /// <see cref="PollBeforeSleepNs"/> window after it. Bulk traffic moves a large segment in
    /// most wake-ups (and, between them, wake-ups with an ACK alone), and keeps its pipe full
    /// with a window of them: the wake-up that sleeping costs is hidden there, and a poll
    /// between two batches only burns CPU (host to guest, 0.33 s of CPU per GiB polling against
    /// 0.28 sleeping, at the same rate). Request/response traffic, whose latency polling is for,
    /// moves far less.
    /// </summary>
    public const int BulkFrameBytesPerWakeup = 32 * 1024;

    /// <summary>epoll_waits without a timeout made under <see cref="PollBeforeSleepNs"/>: what polling cost.</summary>
    public long Polls { get; private set; }

    /// <summary>Counts a frame to or from a guest in the current wake-up's traffic (see <see cref="BulkFrameBytesPerWakeup"/>).</summary>
    public void CountFrame(int bytes) => _frameBytesThisWakeup += bytes;

    /// <summary>The instant of the current wake-up.</summary>
    public Instant Now { get; private set; }

    /// <summary>
    /// Wake-ups so far (returns from epoll_wait): a handler tells from it whether it is called
    /// again on the very next one, that is, whether its fd was ready again straight away.
    /// </summary>
    public long Wakeups { get; private set; }

    /// <summary>Exceptions caught on the loop: in frames, socket events, timers and posted work.</summary>
    public FaultCounters Faults { get; } = new();

    public bool IsOnLoopThread => Environment.CurrentManagedThreadId == _ownerThread;

    public LoopTimer CreateTimer(Action<Instant> callback) => Timers.Create(callback);

    /// <summary>Runs <paramref name="hook"/> after each batch of events, to flush batched work.</summary>
    public void AddAfterDispatch(Action<Instant> hook) => _afterDispatch.Add(hook);

    public PollRegistration Register(int fd, PollEvents events, IPollHandler handler)
    {
        int index;
        if (_freeSlots.Count > 0)
        {
            index = _freeSlots.Pop();
        }
        else
        {
            if (_slotCount == _slots.Length)
            {
                Array.Resize(ref _slots, _slots.Length * 2);
            }
            index = _slotCount++;
        }
        ref Slot slot = ref _slots[index];
        slot.Handler = handler;
        slot.Fd = fd;
        slot.Generation++;
        ulong token = ((ulong)slot.Generation << 32) | (uint)index;
        var ev = new Libc.EpollEvent { Events = (uint)events, Data = token };
        if (Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_ADD, fd, &ev) < 0)
        {
            int errno = Errno.Last;
            slot.Handler = null;
            _freeSlots.Push(index);
            throw Errno.Exception("epoll_ctl(ADD)", errno);
        }
        return new PollRegistration(fd, token);
    }

    public void Modify(PollRegistration registration, PollEvents events)
    {
        var ev = new Libc.EpollEvent { Events = (uint)events, Data = registration.Token };
        if (Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_MOD, registration.Fd, &ev) < 0)
        {
            throw Errno.Exception("epoll_ctl(MOD)");
        }
    }

    /// <summary>Removes the fd from the loop. Events already fetched for it are discarded.</summary>
    /// <param name="closing">
    /// The caller closes the fd next, and it is the file's only descriptor (no dup, no fork
    /// since): the close takes it out of the epoll set, so the epoll_ctl, a system call per
    /// connection, is left out.
    /// </param>
    public void Unregister(PollRegistration registration, bool closing = false)
    {
        if (!registration.IsRegistered)
        {
            return;
        }
        int index = (int)(uint)registration.Token;
        ref Slot slot = ref _slots[index];
        if (slot.Generation != (uint)(registration.Token >> 32) || slot.Handler is null)
        {
            return;
        }
        if (!closing)
        {
            Libc.EpollCtl(_epoll, Libc.EPOLL_CTL_DEL, registration.Fd, null);
        }
        slot.Handler = null;
        slot.Generation++;
        _freeSlots.Push(index);
    }

    /// <summary>Queues work for the loop thread. Safe from any thread.</summary>
    public void Post(Action<Instant> action)
    {
        _posted.Enqueue(action);
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            ulong one = 1;
            Libc.Write(_wakeFd, (byte*)&one, sizeof(ulong));
        }
    }

    /// <summary>Runs <paramref name="action"/> on the loop and waits for its result.</summary>
    public Task<T> InvokeAsync<T>(Func<Instant, T> action)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(now =>
        {
            try
            {
                completion.SetResult(action(now));
            }
            catch (Exception e)
            {
                completion.SetException(e);
            }
        });
        return completion.Task;
    }

    public void Stop()
    {
        _stopping = true;
        Post(static _ => { });
    }

    /// <summary>Runs until <see cref="Stop"/>.</summary>
    public void Run()
    {
        _ownerThread = Environment.CurrentManagedThreadId;
        while (!_stopping)
        {
            RunOnce(Timeout.Infinite);
        }
    }

    /// <summary>One wait and dispatch; the wait ends at the next timer or after <paramref name="maxWaitMs"/>.</summary>
    public void RunOnce(int maxWaitMs)
    {
        _ownerThread = Environment.CurrentManagedThreadId;
        int timeout = WaitTimeout(maxWaitMs);
        int count = timeout != 0 && PollBeforeSleepNs > 0 ? PollThenWait(timeout) : Libc.EpollWait(_epoll, _events, MaxEventsPerWait, timeout);
        if (count < 0)
        {
            int errno = Errno.Last;
            if (errno != Errno.EINTR)
            {
                throw Errno.Exception("epoll_wait", errno);
            }
            count = 0;
        }
        Instant now = Libc.MonotonicNow();
        Now = now;
        Wakeups++;
        _frameBytesThisWakeup = 0;
        if (count > 0)
        {
            _lastEventsNs = now.Nanoseconds;
        }
        for (int i = 0; i < count; i++)
        {
            Dispatch(_events[i].Data, (PollEvents)_events[i].Events, now);
        }
        RunPosted(now);
        Timers.RunDue(now);
        foreach (var hook in _afterDispatch)
        {
            Guard("after dispatch", hook, now);
        }
        if (_frameBytesThisWakeup >= BulkFrameBytesPerWakeup)
        {
            _lastBulkNs = now.Nanoseconds;
        }
    }

    /// <summary>
    /// Polls (epoll_wait with no timeout) while the last events are less than
    /// <see cref="PollBeforeSleepNs"/> old, then waits as usual; not within that window of
    /// bulk traffic (see <see cref="BulkFrameBytesPerWakeup"/>).
    /// </summary>
    private int PollThenWait(int timeout)
    {
        if (Now.Nanoseconds - _lastBulkNs < PollBeforeSleepNs)
        {
            return Libc.EpollWait(_epoll, _events, MaxEventsPerWait, timeout);
        }
        while (Libc.MonotonicNow().Nanoseconds - _lastEventsNs < PollBeforeSleepNs)
        {
            int count = Libc.EpollWait(_epoll, _events, MaxEventsPerWait, 0);
            Polls++;
            if (count != 0 || !_posted.IsEmpty)
            {
                return count;
            }
        }
        return Libc.EpollWait(_epoll, _events, MaxEventsPerWait, timeout);
    }

    private int WaitTimeout(int maxWaitMs)
    {
        if (!_posted.IsEmpty)
        {
            return 0;
        }
        Instant next = Timers.NextDue;
        if (next == Instant.Never)
        {
            return maxWaitMs;
        }
        long waitNs = next.Nanoseconds - Libc.MonotonicNow().Nanoseconds;
        if (waitNs <= 0)
        {
            return 0;
        }
        // Round up, so that a timer is never run a fraction of a millisecond early.
        long waitMs = (waitNs + 999_999) / 1_000_000;
        int timeout = (int)Math.Min(waitMs, int.MaxValue);
        return maxWaitMs < 0 ? timeout : Math.Min(timeout, maxWaitMs);
    }

    private void Dispatch(ulong token, PollEvents events, Instant now)
    {
        if (token == ulong.MaxValue)
        {
            ulong value;
            Libc.Read(_wakeFd, (byte*)&value, sizeof(ulong));
            Volatile.Write(ref _wakePending, 0);
            return;
        }
        int index = (int)(uint)token;
        ref Slot slot = ref _slots[index];
        var handler = slot.Handler;
        if (handler is null || slot.Generation != (uint)(token >> 32))
        {
            return;
        }
        try
        {
            handler.OnPoll(events, now);
        }
        catch (Exception e)
        {
            // This event is lost, not the handler: a link or a listener goes on serving every
            // guest behind it. A handler that an interrupted call may have left half-changed
            // ends what it carries in OnFault.
            Faults.Record("poll " + handler.GetType().Name, e);
            Recover(handler, new PollRegistration(slot.Fd, token), now);
        }
    }

    private void Recover(IPollHandler handler, PollRegistration registration, Instant now)
    {
        try
        {
            handler.OnFault(now);
        }
        catch (Exception e)
        {
            // Its own recovery failed too: it gets no more events, so that it cannot fault on
            // each of them. Its owner still closes its fd.
            Faults.Record("poll " + handler.GetType().Name, e);
            Unregister(registration);
        }
    }

    private void RunPosted(Instant now)
    {
        // Bounded, so that a thread posting in a loop cannot starve the link.
        for (int i = 0; i < 1024 && _posted.TryDequeue(out var action); i++)
        {
            Guard("posted", action, now);
        }
    }

    private void Guard(string handler, Action<Instant> action, Instant now)
    {
        try
        {
            action(now);
        }
        catch (Exception e)
        {
            Faults.Record(handler, e);
        }
    }

    public void Dispose()
    {
        Libc.Close(_epoll);
        Libc.Close(_wakeFd);
        NativeMemory.Free(_events);
    }
}
