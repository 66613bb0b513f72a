using System.Runtime.InteropServices;

namespace Usernet.Platform.Interop;

/// <summary>
/// Direct system calls through libc. The data path uses file descriptors, not .NET's socket
/// engine, so that one loop thread can own every fd through epoll without handing events to
/// other threads. Each method returns what libc returns; callers read errno with
/// <see cref="Errno.Last"/>.
/// </summary>
internal static unsafe partial class Libc
{
    private const string Library = "libc";

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>flock(2): an advisory lock on the whole file, held until the fd is closed.</summary>
    [LibraryImport(Library, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport(Library, EntryPoint = "writev", SetLastError = true)]
    public static partial nint Writev(int fd, IoVec* iov, int count);

    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, void* argument);

    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, nint argument);

    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport(Library, EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    [LibraryImport(Library, EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int oldFd, int newFd);

    [LibraryImport(Library, EntryPoint = "dup3", SetLastError = true)]
    public static partial int Dup3(int oldFd, int newFd, int flags);

    [LibraryImport(Library, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport(Library, EntryPoint = "getrlimit", SetLastError = true)]
    public static partial int GetRlimit(int resource, RLimit* limit);

    [LibraryImport(Library, EntryPoint = "setrlimit", SetLastError = true)]
    public static partial int SetRlimit(int resource, RLimit* limit);

    [LibraryImport(Library, EntryPoint = "clock_gettime", SetLastError = true)]
    [SuppressGCTransition]
    public static partial int ClockGetTime(int clock, TimeSpec* time);

    [LibraryImport(Library, EntryPoint = "isatty")]
    public static partial int IsATty(int fd);

    [LibraryImport(Library, EntryPoint = "tcgetpgrp", SetLastError = true)]
    public static partial int TcGetPgrp(int fd);

    [LibraryImport(Library, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unlink(string path);

    [LibraryImport(Library, EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chmod(string path, int mode);

    [LibraryImport(Library, EntryPoint = "umask")]
    public static partial int Umask(int mask);

    [LibraryImport(Library, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(Library, EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint IfNameToIndex(string name);

    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_TRUNC = 0x200;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int FD_CLOEXEC = 1;

    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    public const int RLIMIT_NOFILE = 7;

    public const int CLOCK_MONOTONIC = 1;
    public const int CLOCK_REALTIME = 0;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>Reads the monotonic clock; the loop calls this once per wake-up.</summary>
    public static Instant MonotonicNow()
    {
        TimeSpec time;
        ClockGetTime(CLOCK_MONOTONIC, &time);
        return new Instant(time.Seconds * 1_000_000_000 + time.Nanoseconds);
    }

    public static void SetNonBlocking(int fd)
    {
        int flags = Fcntl(fd, F_GETFL, 0);
        if (flags < 0 || Fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        {
            throw Errno.Exception("fcntl(O_NONBLOCK)");
        }
    }

    public static void SetCloseOnExec(int fd, bool closeOnExec)
    {
        int flags = Fcntl(fd, F_GETFD, 0);
        if (flags < 0)
        {
            throw Errno.Exception("fcntl(F_GETFD)");
        }
        flags = closeOnExec ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
        if (Fcntl(fd, F_SETFD, flags) < 0)
        {
            throw Errno.Exception("fcntl(F_SETFD)");
        }
    }

    /// <summary>
    /// Raises the soft fd limit to the hard one: every guest connection holds a host socket, and
    /// the default soft limit of 1024 would cap connections far below the configured maximum.
    /// </summary>
    public static ulong RaiseFileLimit()
    {
        RLimit limit;
        if (GetRlimit(RLIMIT_NOFILE, &limit) != 0)
        {
            return 0;
        }
        if (limit.Current < limit.Maximum)
        {
            limit.Current = limit.Maximum;
            SetRlimit(RLIMIT_NOFILE, &limit);
        }
        return limit.Current;
    }
}
