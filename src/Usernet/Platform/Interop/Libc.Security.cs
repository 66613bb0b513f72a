using System.Runtime.InteropServices;

namespace Usernet.Platform.Interop;

internal static unsafe partial class Libc
{
    [LibraryImport(Library, EntryPoint = "capget", SetLastError = true)]
    public static partial int CapGet(CapHeader* header, CapData* data);

    [LibraryImport(Library, EntryPoint = "capset", SetLastError = true)]
    public static partial int CapSet(CapHeader* header, CapData* data);

    [LibraryImport(Library, EntryPoint = "sigaction", SetLastError = true)]
    public static partial int SigAction(int signal, SigActionBuffer* action, SigActionBuffer* previous);

    [LibraryImport(Library, EntryPoint = "tgkill", SetLastError = true)]
    public static partial int TgKill(int processId, int threadId, int signal);

    [LibraryImport(Library, EntryPoint = "gettid")]
    public static partial int GetTid();

    [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Library, EntryPoint = "mprotect", SetLastError = true)]
    public static partial int Mprotect(nint address, nuint length, int protection);

    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    private static partial long SysCallSeccomp(long number, uint operation, uint flags, SockFilterProgram* program);

    /// <summary>seccomp(2) SECCOMP_SET_MODE_FILTER; with TSYNC the filter (and no_new_privs) goes to every thread.</summary>
    public static int SeccompSetFilter(uint flags, SockFilterProgram* program)
    {
        const long SYS_seccomp = 317;
        const uint SECCOMP_SET_MODE_FILTER = 1;
        return (int)SysCallSeccomp(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, program);
    }

    public const uint SECCOMP_FILTER_FLAG_TSYNC = 1;

    /// <summary>_LINUX_CAPABILITY_VERSION_3: 64 capabilities in two 32-bit words.</summary>
    public const uint LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    public const int PR_CAPBSET_READ = 23;
    public const int PR_CAPBSET_DROP = 24;
    public const int PR_SET_NO_NEW_PRIVS = 38;
    public const int PR_GET_NO_NEW_PRIVS = 39;
    public const int PR_CAP_AMBIENT = 47;
    public const int PR_CAP_AMBIENT_CLEAR_ALL = 4;

    public const int PROT_READ = 1;
    public const int PROT_WRITE = 2;
    public const int PROT_EXEC = 4;
    public const int MAP_PRIVATE = 2;
    public const int MAP_ANONYMOUS = 0x20;

    public const int SA_RESTART = 0x10000000;

    [StructLayout(LayoutKind.Sequential)]
    public struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    /// <summary>One 32-bit word of each set; version 3 takes two (capabilities 0-31, then 32-63).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CapData
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }

    /// <summary>glibc's struct sigaction on x86-64 (152 bytes): handler, 1024-bit mask, flags, restorer.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 152)]
    public struct SigActionBuffer
    {
        [FieldOffset(0)]
        public nint Handler;

        [FieldOffset(136)]
        public int Flags;
    }

    /// <summary>One classic BPF instruction (struct sock_filter).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockFilter
    {
        public ushort Code;
        public byte JumpIfTrue;
        public byte JumpIfFalse;
        public uint K;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct SockFilterProgram
    {
        public ushort Length;
        public SockFilter* Filter;
    }
}
