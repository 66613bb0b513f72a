using Usernet.Tests.EndToEnd.Fixtures;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd;

/// <summary>
/// How `usernet docker` starts and ends, each test with an instance of its own: after SIGTERM
/// nothing is left on the host; a restart publishes the containers dockerd brings back; and what
/// keeps it from starting is said clearly.
/// </summary>
public sealed class DockerLifecycleTests
{
    [RootFact]
    public void AfterSigtermNothingIsLeftOnTheHost()
    {
        using var docker = UsernetDocker.Start();
        string image = $"usernet-test:{docker.Name}";
        docker.Check("import", DockerImage.RootfsTar, image);
        int port = Ports.Free();
        docker.Check("run", "-d", "--name", TestEnvironment.UniqueName("c"), "-p", $"{port}:80", image, "httpd", "-f", "-p", "80", "-h", "/");
        Assert.True(Wait.Until(() => Ports.Accepts(port), 20));
        var processes = docker.GuestProcesses();
        Assert.Contains(processes, p => p.Name == "dockerd");
        Assert.Contains(processes, p => p.Name == "containerd");
        Assert.Contains(processes, p => p.Name.StartsWith("containerd-shim", StringComparison.Ordinal));
        string cgroup = FindCgroup(docker);
        string runtime = docker.RuntimeDirectory;
        Assert.True(Directory.Exists(cgroup));

        Assert.Equal(0, docker.Terminate(TimeSpan.FromSeconds(120)));

        var left = processes.Where(p => UsernetDocker.StartTime(p.Pid) == p.Start).ToList();
        Assert.True(left.Count == 0, $"left running: {string.Join(", ", left.Select(p => $"{p.Name} ({p.Pid})"))}");
        var mounts = File.ReadAllLines("/proc/self/mountinfo")
            .Where(l => l.Contains(docker.Directory, StringComparison.Ordinal) || l.Contains(runtime, StringComparison.Ordinal)).ToList();
        Assert.True(mounts.Count == 0, string.Join('\n', mounts));
        Assert.False(Directory.Exists(cgroup), $"cgroup {cgroup} is left");
        Assert.False(File.Exists(docker.Socket), "the API socket is left");
        Assert.False(Directory.Exists(runtime), $"{runtime} is left");
        Assert.False(Ports.Accepts(port), $"port {port} is still published");
        Assert.Contains("usernet: dockerd stopped", docker.Process.Stderr);
    }

    [RootFact]
    public void ARestartPublishesTheContainersDockerdBringsBack()
    {
        string directory = Directory.CreateTempSubdirectory("usernet-docker-").FullName;
        try
        {
            int port = Ports.Free();
            using (var first = UsernetDocker.Start(directory, Path.Combine(directory, "data")))
            {
                string image = $"usernet-test:{first.Name}";
                first.Check("import", DockerImage.RootfsTar, image);
                first.Check("run", "-d", "--restart", "always", "--name", TestEnvironment.UniqueName("c"), "-p", $"{port}:80", image,
                    "httpd", "-f", "-p", "80", "-h", "/");
                Assert.True(Wait.Until(() => Ports.Accepts(port), 20));
                Assert.Equal(0, first.Terminate(TimeSpan.FromSeconds(120)));
            }
            Assert.False(Ports.Accepts(port));
            using var second = UsernetDocker.Start(directory, Path.Combine(directory, "data"));
            Assert.True(Wait.Until(() => second.PublishedOn(port).Count == 1 && Ports.Accepts(port), 60),
                $"the restarted container's port {port} was not published again\n{second}");
        }
        finally
        {
            UsernetDocker.RemoveDirectory(directory);
        }
    }

    [RootFact]
    public void ASecondUsernetDockerOrAnotherDockerdOnTheSameDataRootIsRefused()
    {
        using var docker = UsernetDocker.Start();
        var second = Run(["docker", "--instance", TestEnvironment.UniqueName("dk"), "--data-root", docker.DataRoot,
            "--docker-socket", Path.Combine(docker.Directory, "second.sock")]);
        Assert.Equal(1, second.ExitCode);
        Assert.Contains($"another usernet docker (pid {docker.Pid}) is running with data root {docker.DataRoot}", second.Stderr);

        // A dockerd of the host on a data root: a process that shows itself as dockerd does, in
        // /proc/PID/cmdline (starting the real one would change the host's network).
        string dataRoot = Path.Combine(docker.Directory, "other");
        using var dockerd = ManagedProcess.Start("bash", ["-c", "exec -a dockerd /usr/bin/python3 -c 'import time; time.sleep(60)' --data-root \"$0\"", dataRoot]);
        Assert.True(Wait.Until(() => File.ReadAllText($"/proc/{dockerd.Id}/cmdline").StartsWith("dockerd\0", StringComparison.Ordinal)));
        var clash = Run(["docker", "--instance", TestEnvironment.UniqueName("dk"), "--data-root", dataRoot,
            "--docker-socket", Path.Combine(docker.Directory, "third.sock")]);
        Assert.Equal(1, clash.ExitCode);
        Assert.Contains($"dockerd (pid {dockerd.Id}) already uses data root {dataRoot}", clash.Stderr);
    }

    [RootFact]
    public void WithoutDockerdItNamesThePackage()
    {
        string directory = Directory.CreateTempSubdirectory("usernet-docker-").FullName;
        try
        {
            var result = ProcessRunner.Run(TestEnvironment.UsernetBinary, ["docker", "--data-root", Path.Combine(directory, "data")],
                TimeSpan.FromSeconds(30), environment: new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" });
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("dockerd is not installed", result.Stderr);
            Assert.Contains("docker.io", result.Stderr);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [RootFact]
    public void WithoutRootItSaysSo()
    {
        var result = ProcessRunner.Shell(
            $"cd /tmp && setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp XDG_RUNTIME_DIR= {TestEnvironment.UsernetBinary} docker",
            TimeSpan.FromSeconds(30));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("usernet docker needs root", result.Stderr);
    }

    private static ProcessResult Run(string[] arguments) => ProcessRunner.Run(TestEnvironment.UsernetBinary, arguments, TimeSpan.FromSeconds(60));

    /// <summary>The host cgroup made for the instance: usernet-NAME-PID at the top of the cgroup2 hierarchy.</summary>
    private static string FindCgroup(UsernetDocker docker)
    {
        string root = Usernet.Netns.GuestCgroup.FindHierarchy() ?? throw new InvalidOperationException("no cgroup2 hierarchy");
        return Path.Combine(root, $"usernet-{docker.Name}-{docker.Pid}");
    }
}
