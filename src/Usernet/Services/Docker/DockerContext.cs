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
        var inspect = DockerPrograms.Run(cli, ["context", "inspect", Name]);
        var result = inspect.ExitCode == 0
            ? DockerPrograms.Run(cli, ["context", "update", Name, "--docker", endpoint])
            : DockerPrograms.Run(cli, ["context", "create", Name, "--description", "Usernet (usernet docker)", "--docker", endpoint]);
        return result.ExitCode == 0 ? null : $"{cli} context {(inspect.ExitCode == 0 ? "update" : "create")} {Name} failed: {result.Output.Trim()}";
    }
}
