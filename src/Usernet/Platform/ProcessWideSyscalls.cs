using System.Globalization;
using System.Runtime.InteropServices;
using Usernet.Platform.Interop;

namespace Usernet.Platform;

/// <summary>
/// Makes every thread of the process run the same system calls. Linux keeps credentials per
/// thread: capset(2), PR_CAPBSET_DROP, PR_CAP_AMBIENT and PR_SET_NO_NEW_PRIVS change the
/// calling thread alone, and glibc spreads only the set*id calls to every thread. A .NET
/// process has threads it never runs Usernet's code on (the finalizer, the thread pool, the
/// socket engine, the signal thread), all started with the privileges of the process; a
/// capability dropped on some threads only is still there for whoever takes over the others.
/// So, as Go's AllThreadsSyscall and libcap's psx do, each thread is sent a signal whose
/// handler makes the calls. That handler cannot be .NET code: it interrupts threads at any
/// point, in the middle of the runtime's own work, where no managed code may run. It is a few
/// instructions of x86-64 machine code in a page of its own, which walks a table of calls and
/// touches no memory but that table (no stack, no errno). Each thread's credentials are then
/// read back from /proc/self/task/TID/status until every thread, including any started
/// meanwhile (a new thread copies its creator's), shows the result; the handler stays
/// installed, so a signal that arrives late (one sent again to a thread slow to run the first)
/// finds it and repeats calls that change nothing, or that a seccomp filter installed since refuses.
/// </summary>
internal static unsafe class ProcessWideSyscalls
{
    /// <summary>A real-time signal that neither glibc (32, 33) nor the .NET runtime (SIGRTMIN, 34) uses.</summary>
    public const int Signal = 62;

    private const int EntrySize = 48;

    /// <summary>One system call: its number and up to five arguments.</summary>
    public readonly record struct Call(long Number, long A0 = 0, long A1 = 0, long A2 = 0, long A3 = 0, long A4 = 0);

    private static readonly Lock Gate = new();
    private static nint s_installedHandler;

    /// <summary>
    /// Runs <paramref name="calls"/> on every thread, and returns once <paramref name="applied"/>
    /// holds for each thread id; throws when a thread has not applied them within <paramref name="timeout"/>.
    /// The calls' memory arguments must stay valid for the life of the process.
    /// </summary>
    public static void Run(IReadOnlyList<Call> calls, Func<int, bool> applied, TimeSpan timeout)
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            throw new PlatformNotSupportedException($"applying system calls to every thread is written for x86-64, not {RuntimeInformation.ProcessArchitecture}");
        }
        lock (Gate)
        {
            Install(Handler(Table(calls)));
            int process = Libc.GetPid();
            var signalled = new Dictionary<int, long>();
            long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (true)
            {
                var waiting = Threads().Where(tid => !applied(tid)).ToList();
                if (waiting.Count == 0)
                {
                    return;
                }
                long now = Environment.TickCount64;
                if (now > deadline)
                {
                    throw new InvalidOperationException($"threads {string.Join(", ", waiting)} did not apply the calls within {timeout.TotalSeconds:0.#} s");
                }
                foreach (int tid in waiting)
                {
                    // Again after a while: a signal to a thread that was being created can be lost.
                    if (!signalled.TryGetValue(tid, out long at) || now - at > 200)
                    {
                        signalled[tid] = now;
                        Libc.TgKill(process, tid, Signal);
                    }
                }
                Thread.Sleep(1);
            }
        }
    }

    /// <summary>The process's thread ids, from /proc/self/task.</summary>
    public static List<int> Threads()
    {
        var threads = new List<int>();
        foreach (string entry in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
            {
                threads.Add(tid);
            }
        }
        return threads;
    }

    /// <summary>The calls as the handler reads them: six words each (number, five arguments), then a number of -1.</summary>
    private static long* Table(IReadOnlyList<Call> calls)
    {
        // Never freed: a late signal may still read it.
        var table = (long*)NativeMemory.AllocZeroed((nuint)((calls.Count + 1) * EntrySize));
        for (int i = 0; i < calls.Count; i++)
        {
            var call = calls[i];
            long* entry = table + i * 6;
            entry[0] = call.Number;
            entry[1] = call.A0;
            entry[2] = call.A1;
            entry[3] = call.A2;
            entry[4] = call.A3;
            entry[5] = call.A4;
        }
        table[calls.Count * 6] = -1;
        return table;
    }

    /// <summary>
    /// The signal handler, in a page of its own made executable once written. It uses only the
    /// registers a function may clobber (rax, rcx, rdx, rsi, rdi, r8-r11); the kernel restores
    /// the interrupted thread's registers when the handler returns.
    /// </summary>
    private static nint Handler(long* table)
    {
        byte[] code =
        [
            0xF3, 0x0F, 0x1E, 0xFA,             // 0:  endbr64 (a no-op without CET)
            0x49, 0xB9, 0, 0, 0, 0, 0, 0, 0, 0, // 4:  movabs r9, table
            0x49, 0x8B, 0x01,                   // 14: loop: mov rax, [r9]
            0x48, 0x83, 0xF8, 0xFF,             // 17: cmp rax, -1
            0x74, 0x1C,                         // 21: je done (51)
            0x49, 0x8B, 0x79, 0x08,             // 23: mov rdi, [r9+8]
            0x49, 0x8B, 0x71, 0x10,             // 27: mov rsi, [r9+16]
            0x49, 0x8B, 0x51, 0x18,             // 31: mov rdx, [r9+24]
            0x4D, 0x8B, 0x51, 0x20,             // 35: mov r10, [r9+32]
            0x4D, 0x8B, 0x41, 0x28,             // 39: mov r8, [r9+40]
            0x0F, 0x05,                         // 43: syscall (keeps r9)
            0x49, 0x83, 0xC1, 0x30,             // 45: add r9, 48
            0xEB, 0xDB,                         // 49: jmp loop (14)
            0xC3,                               // 51: done: ret
        ];
        BitConverter.TryWriteBytes(code.AsSpan(6, 8), (long)table);
        const int PageSize = 4096;
        nint page = Libc.Mmap(0, PageSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        if (page == -1)
        {
            throw Errno.Exception("mmap");
        }
        code.CopyTo(new Span<byte>((void*)page, code.Length));
        if (Libc.Mprotect(page, PageSize, Libc.PROT_READ | Libc.PROT_EXEC) != 0)
        {
            throw Errno.Exception("mprotect");
        }
        return page;
    }

    /// <summary>Makes <paramref name="handler"/> the signal's; the signal must be unused, or ours from before.</summary>
    private static void Install(nint handler)
    {
        Libc.SigActionBuffer action = default;
        Libc.SigActionBuffer previous;
        action.Handler = handler;
        action.Flags = Libc.SA_RESTART;
        if (Libc.SigAction(Signal, &action, &previous) != 0)
        {
            throw Errno.Exception("sigaction");
        }
        if (previous.Handler != 0 && previous.Handler != s_installedHandler)
        {
            Libc.SigAction(Signal, &previous, null);
            throw new InvalidOperationException($"signal {Signal} already has a handler in this process");
        }
        s_installedHandler = handler;
    }
}
