using Usernet.Platform.Interop;

namespace Usernet.Platform;

[Flags]
internal enum PollEvents : uint
{
    None = 0,
    Readable = Libc.EPOLLIN,
    Writable = Libc.EPOLLOUT,
    Error = Libc.EPOLLERR,
    HangUp = Libc.EPOLLHUP,
    ReadHangUp = Libc.EPOLLRDHUP,
}

/// <summary>Something the loop wakes when its file descriptor is ready.</summary>
internal interface IPollHandler
{
    void OnPoll(PollEvents events, Instant now);

    /// <summary>
    /// <see cref="OnPoll"/> threw and its event is lost. A handler whose state the interrupted
    /// call may have left half-changed ends what it carries here (a TCP connection is reset);
    /// by default nothing ends, and the handler gets its next events as before.
    /// </summary>
    void OnFault(Instant now)
    {
    }
}

/// <summary>A file descriptor's place in the loop, good until it is unregistered.</summary>
internal readonly record struct PollRegistration(int Fd, ulong Token)
{
    public static readonly PollRegistration None = new(-1, 0);

    public bool IsRegistered => Fd >= 0;
}
