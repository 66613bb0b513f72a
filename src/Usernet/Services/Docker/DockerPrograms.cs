using System.Diagnostics;

namespace Usernet.Services.Docker;

/// <summary>The programs of a Docker installation that <c>usernet docker</c> runs, found on PATH.</summary>
internal sealed record DockerPrograms(string Dockerd, string UserlandProxy, string? Cli)
{
    /// <summary>The Debian and Ubuntu package that has dockerd and docker-proxy.</summary>
    public const string Package = "docker.io";

    /// <summary>Finds dockerd and docker-proxy (or says which package has them) and the docker CLI, if there is one.</summary>
    public static DockerPrograms Find()
    {
        string dockerd = OnPath("dockerd") ?? throw new DockerSetupException(
            $"dockerd is not installed (not found on PATH): install the {Package} package (apt-get install {Package}), or Docker Engine from docker.com");
        // Docker Engine's packages keep docker-proxy beside dockerd or in libexec.
        string proxy = OnPath("docker-proxy")
            ?? new[] { Path.Combine(Path.GetDirectoryName(dockerd)!, "docker-proxy"), "/usr/libexec/docker/docker-proxy" }.FirstOrDefault(IsExecutable)
            ?? throw new DockerSetupException($"docker-proxy, dockerd's userland proxy, is not installed beside {dockerd}: reinstall the {Package} package");
        return new DockerPrograms(dockerd, proxy, OnPath("docker"));
    }

    /// <summary>The first executable file named <paramref name="name"/> in the directories of PATH.</summary>
    public static string? OnPath(string name)
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, name)).FirstOrDefault(IsExecutable);
    }

    private static bool IsExecutable(string file) =>
        File.Exists(file) && (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    /// <summary>dockerd's major version (<c>Docker version 20.10.24+dfsg1, build ...</c>: 20); null when it does not say.</summary>
    public int? DockerdMajorVersion()
    {
        var (status, output) = Run(Dockerd, ["--version"]);
        const string prefix = "Docker version ";
        int start = output.IndexOf(prefix, StringComparison.Ordinal);
        if (status != 0 || start < 0)
        {
            return null;
        }
        start += prefix.Length;
        int end = start;
        while (end < output.Length && char.IsAsciiDigit(output[end]))
        {
            end++;
        }
        return int.TryParse(output.AsSpan(start, end - start), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out int major) ? major : null;
    }

    /// <summary>Runs a program of the installation to its end (at most 20 s); its status and its output and errors together.</summary>
    public static (int ExitCode, string Output) Run(string program, string[] arguments)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        // A docker context names its own endpoint; a DOCKER_HOST or DOCKER_CONTEXT of the caller has no say in it.
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
