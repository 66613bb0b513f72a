namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// The test VM's kernel and initramfs, built by tests/vm/build-image on first use in a test run.
/// The script keeps them in .build/vm and rebuilds only when it or the init it packs changes,
/// so after the first run this costs a few milliseconds.
/// </summary>
public sealed class VmImage
{
    /// <summary>The first build downloads the kernel package (about 70 MB) and unpacks it.</summary>
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    private readonly Lazy<(string Kernel, string Initramfs)> _files = new(Build);

    internal string Kernel => _files.Value.Kernel;

    internal string Initramfs => _files.Value.Initramfs;

    private static (string Kernel, string Initramfs) Build()
    {
        string script = Path.Combine(TestEnvironment.RepositoryRoot, "tests", "vm", "build-image");
        var result = ProcessRunner.Run(script, [], BuildTimeout);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed: {result}");
        }
        // The script's last line is the directory it built into.
        string directory = result.Stdout.TrimEnd().Split('\n')[^1];
        return (Path.Combine(directory, "kernel"), Path.Combine(directory, "initramfs.gz"));
    }
}
