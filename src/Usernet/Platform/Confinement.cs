using System.Runtime.InteropServices;
using Usernet.Platform.Interop;

namespace Usernet.Platform;

/// <summary>
/// What Usernet gives up once it is set up (the TAP device, the namespaces, the published ports
/// and the listeners exist), as passt does: every capability but those it still needs at run
/// time is dropped, from every thread's effective, permitted, inheritable, ambient and bounding
/// sets; no_new_privs is set, so no exec can bring one back; and a seccomp filter
/// (<see cref="SeccompFilter"/>) keeps the process to the system calls its loop, its services
/// and the .NET runtime make. The commands call <see cref="Apply"/> once, with what they keep.
/// </summary>
internal static unsafe class Confinement
{
    private static readonly TimeSpan ThreadTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Drops every capability not in <paramref name="keep"/> (of those the process has), sets
    /// no_new_privs on every thread, and installs the filter unless <paramref name="seccomp"/> is
    /// off. Returns what it did, for the log. Throws when a thread could not be made to drop
    /// what the others dropped.
    /// </summary>
    public static string Apply(CapabilitySet keep, SeccompMode seccomp, IReadOnlyList<(string Name, int Number)>? moreSyscalls = null)
    {
        var before = Current();
        var kept = keep.Intersect(before.Permitted);
        // Only a thread with CAP_SETPCAP may take capabilities out of its bounding set.
        bool bounding = before.Effective.Contains(Capability.Setpcap);
        var target = new ThreadCredentials(kept, kept, CapabilitySet.Empty, CapabilitySet.Empty, bounding ? kept : null, NoNewPrivileges: true);
        ProcessWideSyscalls.Run(Calls(kept, bounding), tid => ThreadCredentials.Read(tid) is not { } now || target.IsMetBy(now), ThreadTimeout);
        string dropped = before.Permitted.Except(kept).IsEmpty ? "none held" : before.Permitted.Except(kept).ToString();
        string summary = $"capabilities kept: {kept} (dropped: {dropped}); no_new_privs";
        if (seccomp == SeccompMode.Off)
        {
            return summary + "; seccomp off";
        }
        try
        {
            int count = SeccompFilter.Install(seccomp, moreSyscalls ?? []);
            return summary + $"; seccomp {(seccomp == SeccompMode.On ? "on" : "logging")}: {count} system calls";
        }
        catch (SystemCallException e) when (e.Code is Errno.EINVAL or Errno.ENOSYS)
        {
            // A kernel without seccomp filters: what the kernel allows is done.
            return summary + $"; seccomp unavailable ({e.Message})";
        }
    }

    /// <summary>What each thread runs: bounding set, ambient set, then the three sets, then no_new_privs.</summary>
    private static List<ProcessWideSyscalls.Call> Calls(CapabilitySet kept, bool bounding)
    {
        const long SYS_capset = 126;
        const long SYS_prctl = 157;
        var calls = new List<ProcessWideSyscalls.Call>();
        if (bounding)
        {
            foreach (int capability in CapabilitySet.All.Except(kept).Numbers())
            {
                calls.Add(new(SYS_prctl, Libc.PR_CAPBSET_DROP, capability));
            }
        }
        calls.Add(new(SYS_prctl, Libc.PR_CAP_AMBIENT, Libc.PR_CAP_AMBIENT_CLEAR_ALL));
        // Read by every thread's handler, whenever its signal comes: never freed.
        var header = (Libc.CapHeader*)NativeMemory.AllocZeroed((nuint)sizeof(Libc.CapHeader));
        var data = (Libc.CapData*)NativeMemory.AllocZeroed((nuint)(2 * sizeof(Libc.CapData)));
        header->Version = Libc.LINUX_CAPABILITY_VERSION_3;
        for (int word = 0; word < 2; word++)
        {
            uint bits = (uint)(kept.Mask >> (32 * word));
            data[word] = new Libc.CapData { Effective = bits, Permitted = bits, Inheritable = 0 };
        }
        calls.Add(new(SYS_capset, (long)header, (long)data));
        calls.Add(new(SYS_prctl, Libc.PR_SET_NO_NEW_PRIVS, 1));
        return calls;
    }

    /// <summary>The calling thread's capability sets.</summary>
    private static ThreadCredentials Current()
    {
        Libc.CapHeader header = new() { Version = Libc.LINUX_CAPABILITY_VERSION_3 };
        var data = stackalloc Libc.CapData[2];
        if (Libc.CapGet(&header, data) != 0)
        {
            throw Errno.Exception("capget");
        }
        static CapabilitySet Join(uint low, uint high) => new(low | ((ulong)high << 32));
        return new ThreadCredentials(
            Join(data[0].Effective, data[1].Effective), Join(data[0].Permitted, data[1].Permitted),
            Join(data[0].Inheritable, data[1].Inheritable), CapabilitySet.Empty, null, NoNewPrivileges: false);
    }
}
