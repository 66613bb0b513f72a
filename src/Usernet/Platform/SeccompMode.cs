namespace Usernet.Platform;

/// <summary>What becomes of a system call outside <see cref="SeccompFilter"/>'s list.</summary>
internal enum SeccompMode
{
    /// <summary>It fails with EPERM.</summary>
    On,

    /// <summary>It runs, and the kernel logs it (SECCOMP_RET_LOG: dmesg, the audit log): for finding one the list misses.</summary>
    Log,

    /// <summary>No filter.</summary>
    Off,
}
