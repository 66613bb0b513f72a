using System.Diagnostics;
using System.Text;
using Usernet.Platform.Interop;

namespace Usernet.Tests.EndToEnd;

internal sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs programs with a deadline; a program that overstays is killed by its PID.</summary>
internal static class ProcessRunner
{
    public static ProcessResult Run(string file, IEnumerable<string> arguments, TimeSpan? timeout = null, string? stdin = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Start(file, arguments, environment, redirectInput: stdin is not null);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {limit.TotalSeconds} s\n{stdout}\n{stderr}");
        }
        process.WaitForExit();
        return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    public static ProcessResult Run(string file, params string[] arguments) => Run(file, arguments, null);

    /// <summary>Runs a shell command line.</summary>
    public static ProcessResult Shell(string commandLine, TimeSpan? timeout = null) => Run("/bin/sh", ["-c", commandLine], timeout);

    public static Process Start(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        bool redirectInput = false)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
    }

    /// <summary>Stops a process as a user would (SIGTERM), by its PID; SIGKILL if it has not ended within 10 s.</summary>
    public static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            Libc.Kill(process.Id, Libc.SIGTERM);
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                Libc.Kill(process.Id, Libc.SIGKILL);
            }
        }
        process.WaitForExit();
    }

    /// <summary>Asserts success and returns stdout.</summary>
    public static string Check(ProcessResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Stdout;
    }
}
