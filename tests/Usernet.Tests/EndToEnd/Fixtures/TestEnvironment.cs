using Usernet.Platform.Interop;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>Where the binary under test is, and what a test may assume about the machine.</summary>
internal static class TestEnvironment
{
    private static int s_counter;

    /// <summary>The native binary that tests/run built (or $USERNET_BIN).</summary>
    public static string UsernetBinary
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable("USERNET_BIN");
            if (!string.IsNullOrEmpty(configured))
            {
                return configured;
            }
            string path = Path.Combine(RepositoryRoot, ".build", "bin", "usernet");
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"no usernet binary at {path}: run tests/run, which builds it");
            }
            return path;
        }
    }

    /// <summary>The checkout the test assembly was built in (where Usernet.slnx is).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Usernet.slnx")))
            {
                directory = directory.Parent;
            }
            return directory?.FullName ?? throw new InvalidOperationException($"no Usernet.slnx above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>End-to-end tests create namespaces and devices: they need root, as CI has (see <see cref="RootFactAttribute"/>).</summary>
    public static bool IsRoot => Libc.GetEUid() == 0;

    /// <summary>Why a test that needs root was skipped.</summary>
    public const string NeedsRoot = "end-to-end tests need root (CI runs tests/run as root)";

    /// <summary>A short name unique to this test run, fit for an interface (at most 15 bytes).</summary>
    public static string UniqueName(string prefix)
    {
        int n = Interlocked.Increment(ref s_counter);
        return $"{prefix}{Environment.ProcessId % 100000}{n}";
    }
}
