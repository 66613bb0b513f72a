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
}
