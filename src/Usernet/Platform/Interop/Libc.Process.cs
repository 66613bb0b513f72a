using System.Runtime.InteropServices;

namespace Usernet.Platform.Interop;

internal static unsafe partial class Libc
{
    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    [SuppressGCTransition]
    private static partial long SysCallClone(long number, ulong flags, nint stack, nint parentTid, nint childTid, nint tls);

    /// <summary>
    /// fork() with namespace flags. The GC transition is suppressed so that the child, which
    /// has only this one thread, returns into managed code without polling for a collection
    /// that the other threads of the parent can no longer finish. The child must call only
    /// <see cref="ChildExec"/>-style functions and then exec or exit.
    /// </summary>
    public static int CloneProcess(ulong flags)
    {
        const long SYS_clone = 56;
        return (int)SysCallClone(SYS_clone, flags, 0, 0, 0, 0);
    }

    [LibraryImport(Library, EntryPoint = "execve", SetLastError = true)]
    [SuppressGCTransition]
    public static partial int ExecVe(byte* path, byte** argv, byte** envp);

    [LibraryImport(Library, EntryPoint = "execvpe", SetLastError = true)]
    [SuppressGCTransition]
    public static partial int ExecVpe(byte* file, byte** argv, byte** envp);

    [LibraryImport(Library, EntryPoint = "_exit")]
    [SuppressGCTransition]
    public static partial void Exit(int status);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    [SuppressGCTransition]
    public static partial nint ReadNoTransition(int fd, byte* buffer, nint count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    [SuppressGCTransition]
    public static partial nint WriteNoTransition(int fd, byte* buffer, nint count);

    [LibraryImport(Library, EntryPoint = "close")]
    [SuppressGCTransition]
    public static partial int CloseNoTransition(int fd);

    [LibraryImport(Library, EntryPoint = "dup2")]
    [SuppressGCTransition]
    public static partial int Dup2NoTransition(int oldFd, int newFd);

    [LibraryImport(Library, EntryPoint = "signal")]
    [SuppressGCTransition]
    public static partial nint SignalNoTransition(int signal, nint handler);

    [LibraryImport(Library, EntryPoint = "sigprocmask")]
    [SuppressGCTransition]
    public static partial int SigProcMaskNoTransition(int how, ulong* set, ulong* oldSet);

    [LibraryImport(Library, EntryPoint = "setpgid")]
    [SuppressGCTransition]
    public static partial int SetPgidNoTransition(int pid, int pgid);

    [LibraryImport(Library, EntryPoint = "__errno_location")]
    [SuppressGCTransition]
    public static partial int* ErrnoLocationNoTransition();

    [LibraryImport(Library, EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport(Library, EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport(Library, EntryPoint = "getpid")]
    public static partial int GetPid();

    [LibraryImport(Library, EntryPoint = "getppid")]
    public static partial int GetPPid();

    [LibraryImport(Library, EntryPoint = "getuid")]
    public static partial int GetUid();

    [LibraryImport(Library, EntryPoint = "getgid")]
    public static partial int GetGid();

    [LibraryImport(Library, EntryPoint = "geteuid")]
    public static partial int GetEUid();

    [LibraryImport(Library, EntryPoint = "getpgrp")]
    public static partial int GetPgrp();

    [LibraryImport(Library, EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport(Library, EntryPoint = "unshare", SetLastError = true)]
    public static partial int Unshare(int flags);

    [LibraryImport(Library, EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int nsType);

    [LibraryImport(Library, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string? source, string target, string? fileSystemType, ulong flags, string? data);

    [LibraryImport(Library, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    public const int MNT_DETACH = 2;

    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long SysCallOpenTree(long number, int directoryFd, string path, uint flags);

    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long SysCallMoveMount(long number, int fromFd, string fromPath, int toFd, string toPath, uint flags);

    public const int AT_FDCWD = -100;

    /// <summary>open_tree(2) with OPEN_TREE_CLONE | AT_RECURSIVE: a detached copy of a mount tree.</summary>
    public static int CloneMountTree(string path)
    {
        const uint OPEN_TREE_CLONE = 1;
        const uint OPEN_TREE_CLOEXEC = 0x80000;
        const uint AT_RECURSIVE = 0x8000;
        return (int)SysCallOpenTree(428, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    }

    /// <summary>move_mount(2) of a detached tree (from <see cref="CloneMountTree"/>) onto <paramref name="target"/>.</summary>
    public static int AttachMountTree(int treeFd, string target)
    {
        const uint MOVE_MOUNT_F_EMPTY_PATH = 0x4;
        return (int)SysCallMoveMount(429, treeFd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
    }

    [LibraryImport(Library, EntryPoint = "sethostname", SetLastError = true)]
    public static partial int SetHostName(byte* name, nint length);

    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    private static partial long SysCall2(long number, long arg1, long arg2);

    /// <summary>pidfd_open(2): a pollable fd that becomes readable when the process exits.</summary>
    public static int PidFdOpen(int pid)
    {
        const long SYS_pidfd_open = 434;
        return (int)SysCall2(SYS_pidfd_open, pid, 0);
    }

    public const ulong CLONE_NEWNS = 0x00020000;
    public const ulong CLONE_NEWCGROUP = 0x02000000;
    public const ulong CLONE_NEWUTS = 0x04000000;
    public const ulong CLONE_NEWIPC = 0x08000000;
    public const ulong CLONE_NEWUSER = 0x10000000;
    public const ulong CLONE_NEWPID = 0x20000000;
    public const ulong CLONE_NEWNET = 0x40000000;

    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGQUIT = 3;
    public const int SIGKILL = 9;
    public const int SIGUSR1 = 10;
    public const int SIGUSR2 = 12;
    public const int SIGPIPE = 13;
    public const int SIGTERM = 15;
    public const int SIGCHLD = 17;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;
    public const int SIGWINCH = 28;

    public const int WNOHANG = 1;

    public const int PR_SET_PDEATHSIG = 1;
    public const int PR_SET_CHILD_SUBREAPER = 36;

    public const ulong MS_RDONLY = 1;
    public const ulong MS_NOSUID = 2;
    public const ulong MS_NODEV = 4;
    public const ulong MS_NOEXEC = 8;
    public const ulong MS_BIND = 4096;
    public const ulong MS_REC = 16384;
    public const ulong MS_PRIVATE = 1 << 18;

    public static bool WifExited(int status) => (status & 0x7f) == 0;

    public static int WExitStatus(int status) => (status >> 8) & 0xff;

    public static bool WifSignaled(int status) => ((status & 0x7f) + 1) >> 1 > 0 && (status & 0x7f) != 0x7f;

    public static int WTermSig(int status) => status & 0x7f;

    /// <summary>The exit code a shell reports: the status, or 128 plus the signal.</summary>
    public static int ShellExitCode(int status) =>
        WifExited(status) ? WExitStatus(status) : WifSignaled(status) ? 128 + WTermSig(status) : 1;
}
