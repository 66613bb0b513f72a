namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// The Docker tests' image, made offline by tests/docker/build-image: busybox-static's busybox
/// with its applets, and the host's socat with its libraries, as a root file system to
/// <c>docker import</c>. Built once per machine (kept until the script changes).
/// </summary>
internal static class DockerImage
{
    private static readonly Lazy<string> Built = new(() =>
        ProcessRunner.Check(ProcessRunner.Run(Path.Combine(TestEnvironment.RepositoryRoot, "tests", "docker", "build-image"), [],
            TimeSpan.FromMinutes(5))).Trim());

    /// <summary>The root file system, as a tar.</summary>
    public static string RootfsTar => Built.Value;
}
