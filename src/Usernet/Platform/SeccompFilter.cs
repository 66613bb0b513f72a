using System.Runtime.InteropServices;
using Usernet.Platform.Interop;

namespace Usernet.Platform;

/// <summary>
/// The seccomp filter Usernet runs under once set up (seccomp(2), classic BPF): the system
/// calls of its loop (epoll, sockets, reads and writes), of its services (the control API, the
/// proxy, PAC fetches, getaddrinfo and its NSS modules, GSSAPI for Negotiate) and of the .NET
/// runtime (futex, mmap, madvise, membarrier, signals, threads), found by running the whole
/// test suite with <see cref="SeccompMode.Log"/> and reading what the kernel logged. Anything
/// else fails with EPERM, so a call the list misses degrades one operation instead of killing
/// the process that carries every guest's network; <c>security.seccomp: log</c> lets such a
/// call run and has the kernel log it (dmesg or the audit log: "type=1326 ... syscall=N"). The
/// list was found with SECCOMP_FILTER_FLAG_LOG, which logs refusals too, over the whole test
/// suite: it is not set in use, since glibc's clone3 (refused by design) would log each new thread.
/// Beyond the list: threads may be created (clone with CLONE_THREAD and no namespace flag) but
/// not processes, and clone3, whose flags a filter cannot read, answers ENOSYS so that glibc
/// falls back to clone. A call made with another architecture's numbers kills the process, as
/// a call numbered for x32 fails. Not restricted: the arguments of the calls allowed (which
/// files are opened, which addresses connected to, which ioctl or prctl is made).
/// </summary>
internal static unsafe class SeccompFilter
{
    /// <summary>x86-64 system calls (asm/unistd_64.h) allowed once set up.</summary>
    public static readonly IReadOnlyList<(string Name, int Number)> Allowed =
    [
        // Files and descriptors: settings, /proc, the PAC file, pcap, the TAP device, the guest's host-services directory.
        ("read", 0), ("write", 1), ("open", 2), ("close", 3), ("stat", 4), ("fstat", 5), ("lstat", 6), ("poll", 7),
        ("lseek", 8), ("ioctl", 16), ("pread64", 17), ("pwrite64", 18), ("readv", 19), ("writev", 20), ("access", 21),
        ("pipe", 22), ("select", 23), ("dup", 32), ("dup2", 33), ("fcntl", 72), ("flock", 73), ("fsync", 74),
        ("fdatasync", 75), ("ftruncate", 77), ("getcwd", 79), ("rename", 82), ("mkdir", 83), ("rmdir", 84), ("unlink", 87),
        ("readlink", 89), ("chmod", 90), ("fchmod", 91), ("umask", 95), ("statfs", 137), ("fstatfs", 138),
        ("getdents64", 217), ("openat", 257), ("mkdirat", 258), ("newfstatat", 262), ("unlinkat", 263), ("renameat", 264),
        ("readlinkat", 267), ("fchmodat", 268), ("faccessat", 269), ("pselect6", 270), ("ppoll", 271), ("dup3", 292),
        ("pipe2", 293), ("preadv", 295), ("pwritev", 296), ("renameat2", 316), ("statx", 332), ("close_range", 436),
        ("faccessat2", 439), ("inotify_add_watch", 254), ("inotify_rm_watch", 255), ("inotify_init1", 294),
        // The loop: epoll and its wake-up eventfd.
        ("epoll_create", 213), ("epoll_wait", 232), ("epoll_ctl", 233), ("epoll_pwait", 281), ("eventfd2", 290),
        ("epoll_create1", 291), ("epoll_pwait2", 441),
        // Sockets: the guests' flows, published ports, the proxy, DNS, the control API.
        ("socket", 41), ("connect", 42), ("accept", 43), ("sendto", 44), ("recvfrom", 45), ("sendmsg", 46),
        ("recvmsg", 47), ("shutdown", 48), ("bind", 49), ("listen", 50), ("getsockname", 51), ("getpeername", 52),
        ("socketpair", 53), ("setsockopt", 54), ("getsockopt", 55), ("accept4", 288), ("recvmmsg", 299), ("sendmmsg", 307),
        // Memory, as the runtime's allocator and GC use it (and dlopen, for NSS and GSSAPI).
        ("mmap", 9), ("mprotect", 10), ("munmap", 11), ("brk", 12), ("mremap", 25), ("msync", 26), ("mincore", 27),
        ("madvise", 28), ("get_mempolicy", 239), ("membarrier", 324),
        // Threads, time and scheduling. clone itself is checked separately.
        ("sched_yield", 24), ("nanosleep", 35), ("getpid", 39), ("exit", 60), ("uname", 63), ("gettimeofday", 96),
        ("getrlimit", 97), ("getrusage", 98), ("sysinfo", 99), ("times", 100), ("getppid", 110), ("getpgrp", 111),
        ("getpriority", 140), ("sched_getparam", 143), ("sched_getscheduler", 145), ("prctl", 157), ("arch_prctl", 158),
        ("gettid", 186), ("time", 201), ("futex", 202), ("sched_getaffinity", 204), ("set_tid_address", 218),
        // A timed wait (futex, nanosleep, epoll_wait) interrupted by a stop (SIGSTOP, SIGTSTP, a
        // tracer attaching) resumes through restart_syscall: refused, it fails the futex, which aborts the runtime.
        ("restart_syscall", 219),
        ("clock_gettime", 228), ("clock_getres", 229), ("clock_nanosleep", 230), ("exit_group", 231),
        ("set_robust_list", 273), ("get_robust_list", 274), ("prlimit64", 302), ("getrandom", 318), ("rseq", 334),
        // Signals: the runtime's, the relay to `usernet run`'s command, the child's exit.
        ("rt_sigaction", 13), ("rt_sigprocmask", 14), ("rt_sigreturn", 15), ("kill", 62), ("rt_sigpending", 127),
        ("rt_sigtimedwait", 128), ("sigaltstack", 131), ("tkill", 200), ("tgkill", 234), ("wait4", 61), ("waitid", 247),
        ("pidfd_open", 434),
        // Kernel keyrings: GSSAPI reads a Kerberos credential cache of type KEYRING: (RHEL's default) through them.
        ("add_key", 248), ("request_key", 249), ("keyctl", 250),
        // Identity, read only.
        ("getuid", 102), ("getgid", 104), ("geteuid", 107), ("getegid", 108), ("getgroups", 115), ("getresuid", 118),
        ("getresgid", 120), ("capget", 125),
    ];

    private const int SysClone = 56;
    private const int SysClone3 = 435;
    private const uint CloneThread = 0x00010000;

    /// <summary>CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET.</summary>
    private const uint CloneNamespaces = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

    private const uint AuditArchX86_64 = 0xC000003E;
    private const uint X32SyscallBit = 0x40000000;

    private const uint RetKillProcess = 0x80000000;
    private const uint RetErrno = 0x00050000;
    private const uint RetLog = 0x7FFC0000;
    private const uint RetAllow = 0x7FFF0000;

    // struct seccomp_data: nr, arch, instruction pointer, then six 64-bit arguments.
    private const uint OffsetNumber = 0;
    private const uint OffsetArch = 4;
    private const uint OffsetFirstArgument = 16;

    private const ushort LoadWord = 0x20;     // BPF_LD | BPF_W | BPF_ABS
    private const ushort JumpAlways = 0x05;   // BPF_JMP | BPF_JA
    private const ushort JumpIfEqual = 0x15;  // BPF_JMP | BPF_JEQ | BPF_K
    private const ushort JumpIfAtLeast = 0x35; // BPF_JMP | BPF_JGE | BPF_K
    private const ushort JumpIfAnyBit = 0x45; // BPF_JMP | BPF_JSET | BPF_K
    private const ushort Return = 0x06;       // BPF_RET | BPF_K

    /// <summary>Installs the filter on every thread (TSYNC); returns how many system calls it allows.</summary>
    public static int Install(SeccompMode mode, IReadOnlyList<(string Name, int Number)> more)
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            throw new PlatformNotSupportedException($"the seccomp filter lists x86-64 system calls, not {RuntimeInformation.ProcessArchitecture}'s");
        }
        var numbers = Allowed.Concat(more).Select(s => s.Number).Distinct().ToList();
        var program = Build(numbers, mode == SeccompMode.Log ? RetLog : RetErrno | Errno.EPERM);
        fixed (Libc.SockFilter* filter = program)
        {
            var header = new Libc.SockFilterProgram { Length = (ushort)program.Length, Filter = filter };
            int result = Libc.SeccompSetFilter(Libc.SECCOMP_FILTER_FLAG_TSYNC, &header);
            if (result < 0)
            {
                throw Errno.Exception("seccomp");
            }
            if (result > 0)
            {
                throw new InvalidOperationException($"seccomp: thread {result} could not take the filter");
            }
        }
        return numbers.Count;
    }

    /// <summary>The BPF program: the checks before the list, then a binary search of the list.</summary>
    public static Libc.SockFilter[] Build(IReadOnlyCollection<int> allowed, uint otherwise)
    {
        var program = new List<Libc.SockFilter>
        {
            Load(OffsetArch),
            Jump(JumpIfEqual, AuditArchX86_64, 1, 0),
            Statement(Return, RetKillProcess),
            Load(OffsetNumber),
            Jump(JumpIfAtLeast, X32SyscallBit, 0, 1),
            Statement(Return, RetErrno | Errno.EPERM),
            Jump(JumpIfEqual, SysClone3, 0, 1),
            Statement(Return, RetErrno | Errno.ENOSYS),
            Jump(JumpIfEqual, SysClone, 0, 6),
            Load(OffsetFirstArgument),
            Jump(JumpIfAnyBit, CloneThread, 1, 0),
            Statement(Return, RetErrno | Errno.EPERM),
            Jump(JumpIfAnyBit, CloneNamespaces, 0, 1),
            Statement(Return, RetErrno | Errno.EPERM),
            Statement(Return, RetAllow),
        };
        var sorted = allowed.Where(n => n is not (SysClone or SysClone3)).Distinct().Order().Select(n => (uint)n).ToArray();
        EmitSearch(program, sorted, otherwise);
        return [.. program];
    }

    /// <summary>
    /// A binary search over <paramref name="numbers"/> (sorted): at each node, at least the middle
    /// number goes right (by an unconditional jump, whose offset has 32 bits), less falls through
    /// to the left; a leaf of a few numbers compares each and returns.
    /// </summary>
    private static void EmitSearch(List<Libc.SockFilter> program, ReadOnlySpan<uint> numbers, uint otherwise)
    {
        if (numbers.Length <= 4)
        {
            for (int i = 0; i < numbers.Length; i++)
            {
                // To the RetAllow after the RetOtherwise below.
                program.Add(Jump(JumpIfEqual, numbers[i], (byte)(numbers.Length - i), 0));
            }
            program.Add(Statement(Return, otherwise));
            program.Add(Statement(Return, RetAllow));
            return;
        }
        int middle = numbers.Length / 2;
        program.Add(Jump(JumpIfAtLeast, numbers[middle], 0, 1));
        int jumpRight = program.Count;
        program.Add(Statement(JumpAlways, 0));
        EmitSearch(program, numbers[..middle], otherwise);
        program[jumpRight] = Statement(JumpAlways, (uint)(program.Count - jumpRight - 1));
        EmitSearch(program, numbers[middle..], otherwise);
    }

    private static Libc.SockFilter Load(uint offset) => Statement(LoadWord, offset);

    private static Libc.SockFilter Statement(ushort code, uint k) => new() { Code = code, K = k };

    private static Libc.SockFilter Jump(ushort code, uint k, byte ifTrue, byte ifFalse) =>
        new() { Code = code, K = k, JumpIfTrue = ifTrue, JumpIfFalse = ifFalse };
}
