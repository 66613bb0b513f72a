using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Cli;

/// <summary>Watches a child through a pidfd on the loop and reports its exit status once.</summary>
internal sealed unsafe class ChildExitWatcher : IPollHandler, IDisposable
{
    private readonly int _pid;
    private readonly int _pidFd;
    private readonly Action<int> _onExit;
    private readonly EventLoop _loop;
    private readonly PollRegistration _registration;
    private bool _reported;

    public ChildExitWatcher(EventLoop loop, int pid, Action<int> onExit)
    {
        _loop = loop;
        _pid = pid;
        _onExit = onExit;
        _pidFd = Libc.PidFdOpen(pid);
        if (_pidFd < 0)
        {
            throw Errno.Exception("pidfd_open");
        }
        _registration = loop.Register(_pidFd, PollEvents.Readable, this);
    }

    public void OnPoll(PollEvents events, Instant now)
    {
        int status;
        int result = Libc.WaitPid(_pid, &status, Libc.WNOHANG);
        if (result == _pid && !_reported)
        {
            _reported = true;
            _loop.Unregister(_registration);
            _onExit(Libc.ShellExitCode(status));
        }
    }

    public void Dispose()
    {
        _loop.Unregister(_registration);
        Libc.Close(_pidFd);
    }
}
