using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A QEMU VM (software emulation) that boots the test image and reports on its serial console,
/// which is QEMU's stdout here: "VM-RESULT ..." lines from tests/vm/init. The VM holds after
/// "VM-RESULT done at ..." until <see cref="PowerOff"/>, so that a test can read the link's counters
/// while it is still attached. Disposing kills QEMU by its PID if it is still running.
/// </summary>
internal sealed class QemuVm : IDisposable
{
    private const string ResultPrefix = "VM-RESULT ";

    private readonly ManagedProcess _process;

    private QemuVm(ManagedProcess process) => _process = process;

    /// <summary>Everything the VM and QEMU printed so far.</summary>
    public string Console => _process.Stdout + _process.Stderr;

    /// <summary>The VM's result lines so far, without their prefix.</summary>
    public IReadOnlyList<string> Results =>
        _process.Stdout.Split('\n')
            .Select(line => line.IndexOf(ResultPrefix, StringComparison.Ordinal) is int start and >= 0 ? line[(start + ResultPrefix.Length)..].TrimEnd() : null)
            .OfType<string>()
            .ToList();

    /// <param name="netdev">QEMU's -netdev argument; its id must be net0.</param>
    /// <param name="mac">The NIC's MAC; VMs on one LAN need their own (QEMU's default is the same for all).</param>
    /// <param name="options">vmtest.* options for tests/vm/init, such as "vmtest.ping=192.168.65.1".</param>
    public static QemuVm Start(VmImage image, string netdev, string mac, params string[] options)
    {
        string append = string.Join(' ', new[]
        {
            // quiet: the kernel's boot messages on an emulated UART cost seconds.
            // panic=-1 with -no-reboot: a panicking guest ends QEMU at once.
            "console=ttyS0", "quiet", "panic=-1", "mitigations=off", "vmtest.hold=1",
        }.Concat(options));
        string[] arguments =
        [
            "-accel", "tcg", "-machine", "q35", "-m", "256", "-smp", "1",
            // qboot starts a -kernel faster than SeaBIOS: no option ROMs, no boot menu.
            "-bios", "qboot.rom",
            "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
            "-kernel", image.Kernel, "-initrd", image.Initramfs, "-append", append,
            "-netdev", netdev,
            // romfile= skips the iPXE option ROM: the VM boots its kernel, never from the network.
            "-device", $"virtio-net-pci,netdev=net0,mac={mac},romfile=",
        ];
        // stdin stays open: a line written to it reaches the guest's console and releases the hold.
        return new QemuVm(ManagedProcess.Start("qemu-system-x86_64", arguments, redirectInput: true));
    }

    /// <summary>The VM reported "done at UPTIME s": every check has its result.</summary>
    public bool IsDone => Results.Any(r => r.StartsWith("done ", StringComparison.Ordinal));

    /// <summary>Waits until the VM is done (or QEMU ends); false on timeout.</summary>
    public bool WaitUntilDone(TimeSpan timeout) =>
        Wait.Until(() => IsDone || _process.HasExited, timeout.TotalSeconds) && IsDone;

    /// <summary>Releases the hold: the guest powers off and QEMU exits. Returns QEMU's exit code.</summary>
    public int PowerOff(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            _process.StandardInput.WriteLine();
        }
        if (!_process.WaitForExit(timeout))
        {
            throw new TimeoutException($"the VM did not power off within {timeout.TotalSeconds} s\n{Console}");
        }
        return _process.ExitCode;
    }

    /// <summary>What a failed assertion shows: the command line and the console.</summary>
    public override string ToString() => $"{_process.CommandLine}\n--- console\n{Console}";

    public void Dispose() => _process.Dispose();
}
