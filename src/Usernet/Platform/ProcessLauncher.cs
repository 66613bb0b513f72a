using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Usernet.Platform.Interop;

namespace Usernet.Platform;

/// <summary>
/// Starts a program in a child made with clone(2), so that the child can be born in new
/// namespaces (which .NET's Process cannot do, and which a multithreaded process cannot
/// enter later for a user namespace). Between clone and exec the child calls only
/// <c>SuppressGCTransition</c> functions on memory prepared beforehand: it allocates nothing
/// and never meets the GC, whose other threads did not survive the clone.
/// </summary>
internal static unsafe class ProcessLauncher
{
    /// <summary>What exec failed with, reported by the child through a close-on-exec pipe.</summary>
    public sealed class ExecFailedException(string file, int errno)
        : Exception($"{file}: {(errno == Interop.Errno.ENOENT ? "command not found" : Interop.Errno.Describe(errno))}")
    {
        public int Code { get; } = errno;

        /// <summary>127 for not found, 126 for found but not executable, as shells report.</summary>
        public int ExitCode => Code == Interop.Errno.ENOENT ? 127 : 126;
    }

    /// <summary>
    /// Runs <paramref name="file"/> (searched in PATH when it has no slash) with
    /// <paramref name="arguments"/> (argv, including argv[0]) in a child cloned with
    /// <paramref name="cloneFlags"/>. <paramref name="beforeExec"/> runs in the parent while
    /// the child waits to exec (to write its uid_map, say). Returns the child's pid.
    /// </summary>
    public static int Spawn(
        string file, IReadOnlyList<string> arguments, IReadOnlyList<string> environment,
        ulong cloneFlags = 0, Action<int>? beforeExec = null, int keepFd = -1)
    {
        using var argv = new NativeStringArray(arguments);
        using var envp = new NativeStringArray(environment);
        byte* path = NativeStringArray.ToCString(file);
        int* gate = stackalloc int[2];
        int* report = stackalloc int[2];
        if (Libc.Pipe2(gate, Libc.O_CLOEXEC) < 0 || Libc.Pipe2(report, Libc.O_CLOEXEC) < 0)
        {
            NativeMemory.Free(path);
            throw Errno.Exception("pipe2");
        }
        if (keepFd >= 0)
        {
            Libc.SetCloseOnExec(keepFd, false);
        }
        int pid = CloneAndExec(cloneFlags, gate[0], report[1], path, argv.Pointer, envp.Pointer);
        int cloneErrno = Errno.Last;
        if (keepFd >= 0)
        {
            Libc.SetCloseOnExec(keepFd, true);
        }
        Libc.Close(gate[0]);
        Libc.Close(report[1]);
        try
        {
            if (pid < 0)
            {
                throw new SystemCallException("clone", cloneErrno);
            }
            try
            {
                beforeExec?.Invoke(pid);
            }
            catch
            {
                Libc.Kill(pid, Libc.SIGKILL);
                Reap(pid);
                throw;
            }
            byte go = 1;
            Libc.Write(gate[1], &go, 1);
            int childErrno = 0;
            nint n;
            do
            {
                n = Libc.Read(report[0], (byte*)&childErrno, sizeof(int));
            }
            while (n < 0 && Errno.Last == Errno.EINTR);
            if (n == sizeof(int))
            {
                Reap(pid);
                throw new ExecFailedException(file, childErrno);
            }
            return pid;
        }
        finally
        {
            Libc.Close(gate[1]);
            Libc.Close(report[0]);
            NativeMemory.Free(path);
        }
    }

    /// <summary>
    /// clone(2) returns twice; the child's return goes straight to <see cref="RunChild"/>. Only
    /// the NativeAOT build may call this: under the JIT the parent has been seen to wander into
    /// the child's path, so tests drive it through the published binary, never in-process.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int CloneAndExec(ulong cloneFlags, int gate, int report, byte* path, byte** argv, byte** envp)
    {
        int pid = Libc.CloneProcess(cloneFlags | Libc.SIGCHLD);
        if (pid == 0)
        {
            RunChild(gate, report, path, argv, envp);
        }
        return pid;
    }

    /// <summary>The child's whole life before exec. Straight-line code: no loops, no allocation.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RunChild(int gate, int report, byte* path, byte** argv, byte** envp)
    {
        byte go;
        Libc.ReadNoTransition(gate, &go, 1);
        ulong empty = 0;
        Libc.SigProcMaskNoTransition(2 /* SIG_SETMASK */, &empty, null);
        // .NET ignores SIGPIPE; a program expects the default.
        Libc.SignalNoTransition(Libc.SIGPIPE, 0);
        Libc.ExecVpe(path, argv, envp);
        int errno = *Libc.ErrnoLocationNoTransition();
        Libc.WriteNoTransition(report, (byte*)&errno, sizeof(int));
        Libc.Exit(127);
    }

    private static void Reap(int pid)
    {
        int status;
        while (Libc.WaitPid(pid, &status, 0) < 0 && Errno.Last == Errno.EINTR)
        {
        }
    }
}
