using System.Diagnostics;

namespace Usernet.Services.Docker;

/// <summary>
/// The docker CLI's context for Usernet's daemon, as Docker Desktop keeps <c>desktop-linux</c>:
/// created, or updated to the socket of this run, so that <c>docker context use usernet</c>
/// (or <c>docker --context usernet</c>) reaches it.
/// </summary>
internal static class DockerContext
{
    public const string Name = "usernet";

    /// <summary>Creates or updates the context; returns what went wrong, or null.</summary>
    public static string? Point(string cli, string socketPath)
    {
        string endpoint = $"host=unix://{socketPath}";
        var inspect = Run(cli, ["context", "inspect", Name]);
        var result = inspect.ExitCode == 0
            ? Run(cli, ["context", "update", Name, "--docker", endpoint])
            : Run(cli, ["context", "create", Name, "--description", "Usernet (usernet docker)", "--docker", endpoint]);
        return result.ExitCode == 0 ? null : $"{cli} context {(inspect.ExitCode == 0 ? "update" : "create")} {Name} failed: {result.Output.Trim()}";
    }

    private static (int ExitCode, string Output) Run(string cli, string[] arguments)
    {
        var info = new ProcessStartInfo(cli)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        // The context names its own endpoint; a DOCKER_HOST or DOCKER_CONTEXT of the caller has no say in it.
        info.Environment.Remove("DOCKER_HOST");
        info.Environment.Remove("DOCKER_CONTEXT");
        try
        {
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                process.Kill();
                process.WaitForExit();
                return (-1, "timed out");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (-1, e.Message);
        }
    }
}
