using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Tests.Platform;

/// <summary>
/// The seccomp program, run by an interpreter of the classic BPF it is written in, for every
/// system call number: the allowed ones pass, others get the mode's answer, and the checks
/// before the list (architecture, x32, clone3, clone's flags) hold.
/// </summary>
public sealed class SeccompFilterTests
{
    private const uint X86_64 = 0xC000003E;
    private const uint Allow = 0x7FFF0000;
    private const uint Eperm = 0x00050000 | 1;
    private const uint Enosys = 0x00050000 | 38;
    private const uint LogAction = 0x7FFC0000;
    private const uint KillProcess = 0x80000000;
    private const uint CloneThread = 0x00010000;
    private const uint CloneNewNet = 0x40000000;

    /// <summary>pthread_create's flags: CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID.</summary>
    private const uint ThreadFlags = 0x003D0F00;

    private static readonly Libc.SockFilter[] Program = SeccompFilter.Build(SeccompFilter.Allowed.Select(s => s.Number).ToList(), Eperm);

    [Fact]
    public void EveryListedCallPassesAndNoOther()
    {
        var allowed = SeccompFilter.Allowed.Select(s => (uint)s.Number).ToHashSet();
        for (uint number = 0; number < 600; number++)
        {
            if (number is 56 or 435)
            {
                continue;
            }
            uint expected = allowed.Contains(number) ? Allow : Eperm;
            Assert.True(expected == Run(Program, number), $"system call {number}");
        }
    }

    [Fact]
    public void TheListHasNoDuplicatesAndNoProcessOrPrivilegeCalls()
    {
        Assert.Equal(SeccompFilter.Allowed.Count, SeccompFilter.Allowed.Select(s => s.Number).Distinct().Count());
        Assert.Equal(SeccompFilter.Allowed.Count, SeccompFilter.Allowed.Select(s => s.Name).Distinct().Count());
        string[] never = ["execve", "execveat", "fork", "vfork", "ptrace", "mount", "umount2", "unshare", "setns", "pivot_root", "chroot",
            "capset", "setuid", "setgid", "setgroups", "init_module", "finit_module", "bpf", "process_vm_writev", "seccomp"];
        Assert.Empty(SeccompFilter.Allowed.Select(s => s.Name).Intersect(never));
        // Spot checks of the numbers (asm/unistd_64.h).
        Assert.Contains(("epoll_wait", 232), SeccompFilter.Allowed);
        Assert.Contains(("futex", 202), SeccompFilter.Allowed);
        Assert.Contains(("recvmsg", 47), SeccompFilter.Allowed);
        Assert.Contains(("membarrier", 324), SeccompFilter.Allowed);
    }

    [Fact]
    public void ThreadsMayBeCreatedButNotProcessesOrNamespaces()
    {
        Assert.Equal(Allow, Run(Program, 56, argument: ThreadFlags));
        Assert.Equal(Eperm, Run(Program, 56, argument: 0x11 /* SIGCHLD: fork */));
        Assert.Equal(Eperm, Run(Program, 56, argument: ThreadFlags | CloneNewNet));
        Assert.Equal(Eperm, Run(Program, 56, argument: CloneNewNet | 0x11));
        // clone3's flags are in memory a filter cannot read: glibc falls back to clone on ENOSYS.
        Assert.Equal(Enosys, Run(Program, 435, argument: ThreadFlags));
    }

    [Fact]
    public void OtherArchitecturesAreKilledAndX32CallsRefused()
    {
        Assert.Equal(KillProcess, Run(Program, 0, arch: 0x40000003 /* i386 */));
        Assert.Equal(Eperm, Run(Program, 0x40000000 | 1));
    }

    [Fact]
    public void LogModeLetsUnlistedCallsRunAndLogsThem()
    {
        var program = SeccompFilter.Build(SeccompFilter.Allowed.Select(s => s.Number).ToList(), LogAction);
        Assert.Equal(LogAction, Run(program, 59 /* execve */));
        Assert.Equal(Allow, Run(program, 0));
        Assert.Equal(Eperm, Run(program, 56, argument: 0x11));
    }

    [Fact]
    public void TheProgramFitsTheKernelsLimitAndEveryJumpLandsInside()
    {
        Assert.True(Program.Length < 4096, $"{Program.Length} instructions");
        for (int i = 0; i < Program.Length; i++)
        {
            var instruction = Program[i];
            if ((instruction.Code & 0x07) == 0x05)
            {
                long last = instruction.Code == 0x05
                    ? i + 1 + instruction.K
                    : i + 1 + Math.Max(instruction.JumpIfTrue, instruction.JumpIfFalse);
                Assert.True(last < Program.Length, $"instruction {i} jumps past the end");
            }
        }
        Assert.Equal(0x06, Program[^1].Code);
    }

    /// <summary>The classic BPF the filter uses: absolute word loads, JA, JEQ, JGE, JSET on constants, RET.</summary>
    private static uint Run(Libc.SockFilter[] program, uint number, uint arch = X86_64, uint argument = 0)
    {
        uint accumulator = 0;
        int pc = 0;
        for (int steps = 0; steps < 10_000; steps++)
        {
            var instruction = program[pc];
            switch (instruction.Code)
            {
                case 0x20:
                    accumulator = instruction.K switch
                    {
                        0 => number,
                        4 => arch,
                        16 => argument,
                        _ => throw new InvalidOperationException($"load of offset {instruction.K}"),
                    };
                    pc++;
                    break;
                case 0x05:
                    pc += 1 + (int)instruction.K;
                    break;
                case 0x15:
                    pc += 1 + (accumulator == instruction.K ? instruction.JumpIfTrue : instruction.JumpIfFalse);
                    break;
                case 0x35:
                    pc += 1 + (accumulator >= instruction.K ? instruction.JumpIfTrue : instruction.JumpIfFalse);
                    break;
                case 0x45:
                    pc += 1 + ((accumulator & instruction.K) != 0 ? instruction.JumpIfTrue : instruction.JumpIfFalse);
                    break;
                case 0x06:
                    return instruction.K;
                default:
                    throw new InvalidOperationException($"opcode {instruction.Code:x} at {pc}");
            }
        }
        throw new InvalidOperationException("the program does not end");
    }
}
