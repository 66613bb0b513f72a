namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>Runs programs to completion with a deadline; a program that overstays is killed, with its descendants, by PID.</summary>
internal static class ProcessRunner
{
    /// <summary>Tests read the whole output of what they run: the bound only guards against a runaway.</summary>
    private const int OutputLimit = 64 << 20;

    public static ProcessResult Run(string file, IEnumerable<string> arguments, TimeSpan? timeout = null, string? stdin = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = ManagedProcess.Start(file, arguments, redirectInput: stdin is not null, environment: environment, outputLimit: OutputLimit);
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        if (!process.WaitForExit(limit))
        {
            throw new TimeoutException($"{process.CommandLine} did not finish within {limit.TotalSeconds} s\n{process.Stdout}\n{process.Stderr}");
        }
        return new ProcessResult(process.ExitCode, process.Stdout, process.Stderr);
    }

    public static ProcessResult Run(string file, params string[] arguments) => Run(file, arguments, null);

    /// <summary>Runs a shell command line.</summary>
    public static ProcessResult Shell(string commandLine, TimeSpan? timeout = null) => Run("/bin/sh", ["-c", commandLine], timeout);

    /// <summary>Asserts success and returns stdout.</summary>
    public static string Check(ProcessResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Stdout;
    }
}
