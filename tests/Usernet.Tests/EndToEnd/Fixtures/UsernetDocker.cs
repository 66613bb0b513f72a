using System.Text.Json;
using Usernet.Platform.Interop;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A `usernet docker` of a test's own: a unique instance name; its data root, the docker CLI's
/// configuration and the API socket in a temporary directory; the host's resolver isolated
/// (<see cref="IsolatedResolver"/>). Ready once it prints <c>export DOCKER_HOST=...</c>.
/// <see cref="Docker"/> runs the docker CLI against it. Disposing stops it as a user would
/// (SIGTERM, by PID: the containers get their stop timeout), kills it if it lingers, and removes
/// the directory.
/// </summary>
internal sealed class UsernetDocker : IDisposable
{
    /// <summary>How long a start may take on a loaded machine: dockerd starts containerd first.</summary>
    private static readonly TimeSpan ReadyLimit = TimeSpan.FromSeconds(150);

    private readonly ManagedProcess _process;
    private readonly IsolatedResolver _resolver;
    private readonly bool _ownsDirectory;

    private UsernetDocker(ManagedProcess process, IsolatedResolver resolver, string name, string directory, string dataRoot, bool ownsDirectory)
    {
        _process = process;
        _resolver = resolver;
        Name = name;
        Directory = directory;
        DataRoot = dataRoot;
        _ownsDirectory = ownsDirectory;
    }

    public string Name { get; }

    /// <summary>The test's directory: the data root, the API socket, the CLI's configuration.</summary>
    public string Directory { get; }

    public string DataRoot { get; }

    public string Socket => Path.Combine(Directory, "docker.sock");

    /// <summary>The instance's runtime directory: the guest's daemon socket is in its guest/.</summary>
    public string RuntimeDirectory => Path.Combine(Usernet.Control.InstanceDirectory.Path, Name);

    public int Pid => _process.Id;

    public ManagedProcess Process => _process;

    /// <summary>The environment the docker CLI runs with: this instance, and a configuration of the test's own.</summary>
    public Dictionary<string, string> Environment => new()
    {
        ["DOCKER_HOST"] = $"unix://{Socket}",
        ["DOCKER_CONFIG"] = Path.Combine(Directory, "docker-config"),
        // The daemon is 20.10, without BuildKit's builder for this CLI: the classic builder, said once.
        ["DOCKER_BUILDKIT"] = "0",
    };

    /// <summary>
    /// Starts one in a new temporary directory, or on <paramref name="dataRoot"/> (kept: a later
    /// instance may use it again) in <paramref name="directory"/>; <paramref name="environment"/>
    /// adds to what it inherits (SSH_AUTH_SOCK, say); <paramref name="options"/> to its command line.
    /// </summary>
    public static UsernetDocker Start(string? directory = null, string? dataRoot = null, IReadOnlyDictionary<string, string>? environment = null,
        IReadOnlyList<string>? options = null)
    {
        bool owns = directory is null;
        directory ??= System.IO.Directory.CreateTempSubdirectory("usernet-docker-").FullName;
        dataRoot ??= Path.Combine(directory, "data");
        string name = TestEnvironment.UniqueName("dk");
        var resolver = new IsolatedResolver("", "127.0.0.1");
        string[] arguments =
        [
            .. resolver.Wrapper[1..], TestEnvironment.UsernetBinary, "docker", "--instance", name, "--data-root", dataRoot,
            "--docker-socket", Path.Combine(directory, "docker.sock"), .. resolver.Settings(), .. options ?? [],
        ];
        var variables = new Dictionary<string, string>(environment ?? new Dictionary<string, string>())
        {
            ["DOCKER_CONFIG"] = Path.Combine(directory, "docker-config"),
        };
        var process = ManagedProcess.Start(resolver.Wrapper[0], arguments, environment: variables, gracePeriod: TimeSpan.FromSeconds(60));
        var docker = new UsernetDocker(process, resolver, name, directory, dataRoot, owns);
        try
        {
            process.WaitUntilReady(() => process.Stdout.Contains("export DOCKER_HOST=", StringComparison.Ordinal), ReadyLimit,
                () => ReadLog(dataRoot));
        }
        catch
        {
            docker.Dispose();
            throw;
        }
        return docker;
    }

    private static string ReadLog(string dataRoot)
    {
        try
        {
            return string.Join('\n', File.ReadLines(Path.Combine(dataRoot, "usernet", "dockerd.log")).TakeLast(20));
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Runs the docker CLI against this instance.</summary>
    public ProcessResult Docker(params string[] arguments) => Docker(TimeSpan.FromSeconds(60), arguments);

    public ProcessResult Docker(TimeSpan timeout, params string[] arguments) =>
        ProcessRunner.Run("docker", arguments, timeout, environment: Environment);

    /// <summary>Runs the docker CLI and checks it succeeds; returns stdout.</summary>
    public string Check(params string[] arguments) => ProcessRunner.Check(Docker(arguments));

    /// <summary>What `usernet port ls --json` lists for this instance.</summary>
    public List<JsonElement> Published()
    {
        string json = ProcessRunner.Check(ProcessRunner.Run(TestEnvironment.UsernetBinary, "port", "ls", "--json", "--instance", Name));
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    /// <summary>The publishes of host port <paramref name="port"/>.</summary>
    public List<JsonElement> PublishedOn(int port) =>
        Published().Where(p => p.GetProperty("host").EnumerateArray().Any(h => h.GetString()!.EndsWith($":{port}", StringComparison.Ordinal))).ToList();

    /// <summary>The guest's init: the first process of its PID namespace, a child of usernet.</summary>
    public int GuestInit()
    {
        string ours = new FileInfo("/proc/self/ns/pid").LinkTarget!;
        foreach (string task in System.IO.Directory.GetDirectories($"/proc/{Pid}/task"))
        {
            foreach (string child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (new FileInfo($"/proc/{child}/ns/pid").LinkTarget != ours)
                {
                    return int.Parse(child);
                }
            }
        }
        throw new InvalidOperationException($"usernet docker (pid {Pid}) has no guest");
    }

    /// <summary>Every process of the guest's PID namespace, as a PID with its start time (so that a PID used again is not taken for it).</summary>
    public List<(int Pid, string Start, string Name)> GuestProcesses()
    {
        string ns = new FileInfo($"/proc/{GuestInit()}/ns/pid").LinkTarget!;
        var found = new List<(int, string, string)>();
        foreach (string directory in System.IO.Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid))
            {
                continue;
            }
            try
            {
                if (new FileInfo(Path.Combine(directory, "ns", "pid")).LinkTarget == ns)
                {
                    found.Add((pid, StartTime(pid) ?? "", File.ReadAllText(Path.Combine(directory, "comm")).Trim()));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    /// <summary>Field 22 of /proc/PID/stat (the start time in clock ticks); null when the process is gone.</summary>
    public static string? StartTime(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Sends SIGTERM and waits for it to end; returns its exit status.</summary>
    public int Terminate(TimeSpan limit)
    {
        Libc.Kill(Pid, Libc.SIGTERM);
        Assert.True(_process.WaitForExit(limit), $"usernet docker did not end within {limit.TotalSeconds} s after SIGTERM\n{_process}");
        return _process.ExitCode;
    }

    public override string ToString() => $"{_process}\n--- dockerd.log (end)\n{ReadLog(DataRoot)}";

    public void Dispose()
    {
        _process.Dispose();
        _resolver.Dispose();
        if (_ownsDirectory)
        {
            RemoveDirectory(Directory);
        }
    }

    /// <summary>Removes a test directory that held a data root (root-owned layers and all).</summary>
    public static void RemoveDirectory(string directory)
    {
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A layer dockerd left immutable or busy: rm tries harder, and what stays is in /tmp.
            ProcessRunner.Run("rm", "-rf", directory);
        }
    }
}
