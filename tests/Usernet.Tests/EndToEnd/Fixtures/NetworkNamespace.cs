using Usernet.Platform.Interop;
using Usernet.Tests.Support;

namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A named network namespace a test creates (`ip netns add`), and the programs it starts in
/// it. Disposing kills those programs and then anything else still inside (`ip netns pids`:
/// what they forked, or what a test ran there), each by PID, before it deletes the namespace:
/// deleting only removes the name, and the namespace lives on, unnamed, while a process is in it.
/// </summary>
internal sealed class NetworkNamespace : IDisposable
{
    private readonly List<ManagedProcess> _processes = new();
    private bool _deleted;

    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>Creates a namespace with a unique name that starts with <paramref name="prefix"/>.</summary>
    public static NetworkNamespace Create(string prefix)
    {
        var created = new NetworkNamespace(TestEnvironment.UniqueName(prefix));
        Ip("netns", "add", created.Name);
        return created;
    }

    /// <summary>Runs `ip` in the host's namespace and checks it succeeds.</summary>
    public static string Ip(params string[] arguments) =>
        ProcessRunner.Check(ProcessRunner.Run("ip", arguments, TimeSpan.FromSeconds(10)));

    /// <summary>Runs a command in the namespace and checks it succeeds.</summary>
    public string Exec(params string[] command) =>
        ProcessRunner.Check(ProcessRunner.Run("ip", ["netns", "exec", Name, .. command], TimeSpan.FromSeconds(30)));

    /// <summary>Starts a long-running program in the namespace; it is killed when the namespace is disposed, if not before.</summary>
    public ManagedProcess Start(params string[] command)
    {
        // ip netns exec execs the command: the PID is the program's.
        var process = ManagedProcess.Start("ip", ["netns", "exec", Name, .. command]);
        lock (_processes)
        {
            _processes.Add(process);
        }
        return process;
    }

    /// <summary>The PIDs of the processes in the namespace.</summary>
    public IReadOnlyList<int> Pids() =>
        ProcessRunner.Run("ip", "netns", "pids", Name).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();

    /// <summary>PIDs of processes whose network namespace is <paramref name="netns"/> (as readlink shows it), named or not.</summary>
    public static List<int> ProcessesIn(string netns)
    {
        var pids = new List<int>();
        foreach (string directory in System.IO.Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid))
            {
                continue;
            }
            try
            {
                if (new FileInfo(Path.Combine(directory, "ns", "net")).LinkTarget == netns)
                {
                    pids.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return pids;
    }

    public void Dispose()
    {
        if (_deleted)
        {
            return;
        }
        _deleted = true;
        lock (_processes)
        {
            foreach (var process in _processes)
            {
                process.Dispose();
            }
        }
        // Anything that survives this is reported by the leak check at the end of tests/run.
        Wait.Until(() =>
        {
            var pids = Pids();
            foreach (int pid in pids)
            {
                Libc.Kill(pid, Libc.SIGKILL);
            }
            return pids.Count == 0;
        });
        ProcessRunner.Run("ip", "netns", "del", Name);
    }
}
