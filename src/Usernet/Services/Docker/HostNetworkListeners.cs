using System.Globalization;
using System.Text.Json;
using Usernet.Platform;

namespace Usernet.Services.Docker;

/// <summary>
/// The guest's listening sockets that belong to containers on the host network (<c>docker run
/// --network host</c>), each with its container's name: what <see cref="Forwarding.AutoPublisher"/>
/// publishes under <c>usernet docker</c>, as Docker Desktop 4.34 does. Such a container shares the
/// guest's network namespace with dockerd, containerd, the userland proxies that carry <c>-p</c>
/// bindings (published already by the API proxy) and Usernet's guest-side processes, so the
/// namespace's socket table alone cannot tell them apart. What does is the cgroup: runc puts every
/// process of a container, and of its <c>docker exec</c>s, in the container's own cgroup, named
/// by its 64-hex id (<c>/docker/ID</c> with the cgroupfs driver, <c>docker-ID.scope</c> with
/// systemd's), while the daemons and docker-proxy stay in the daemon's. So: the container
/// cgroups under the guest's cgroup, their processes whose network namespace is the guest's
/// (a container with a network of its own has sockets in another table), and the socket inodes
/// among those processes' fds. The container's name is its <c>config.v2.json</c>'s, read once.
/// Called on the loop once a second; it reads only the container processes' /proc entries.
/// </summary>
internal sealed class HostNetworkListeners
{
    /// <summary>How deep below the guest's cgroup a container's may be (docker/ID, or a --cgroup-parent of a few levels).</summary>
    private const int MaxDepth = 4;

    private readonly string _guestCgroup;
    private readonly int _guestPid;
    private readonly string _containers;
    private readonly Dictionary<string, string> _names = new();

    /// <param name="guestCgroup">The guest's cgroup directory on the host (the root of its cgroup namespace).</param>
    /// <param name="guestPid">A process in the guest's network namespace (its init).</param>
    /// <param name="dataRoot">dockerd's data root, whose containers/ID/config.v2.json names each container.</param>
    public HostNetworkListeners(string guestCgroup, int guestPid, string dataRoot)
    {
        _guestCgroup = guestCgroup;
        _guestPid = guestPid;
        _containers = Path.Combine(dataRoot, "containers");
    }

    /// <summary>The socket inodes of host-network containers' processes, each with its container's name.</summary>
    public Dictionary<ulong, string> Owners()
    {
        var owners = new Dictionary<ulong, string>();
        string? guestNetwork = ProcFs.LinkTarget($"/proc/{_guestPid}/ns/net");
        if (guestNetwork is null)
        {
            return owners;
        }
        var seen = new HashSet<string>();
        foreach (var (id, directory) in ContainerCgroups(_guestCgroup, 0))
        {
            seen.Add(id);
            foreach (int pid in Processes(directory, 0))
            {
                string process = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}";
                if (ProcFs.LinkTarget(Path.Combine(process, "ns", "net")) != guestNetwork)
                {
                    continue;
                }
                string name = NameOf(id);
                foreach (ulong inode in ProcFs.SocketInodes(process))
                {
                    owners[inode] = name;
                }
            }
        }
        foreach (string gone in _names.Keys.Where(id => !seen.Contains(id)).ToList())
        {
            _names.Remove(gone);
        }
        return owners;
    }

    /// <summary>The cgroups below <paramref name="directory"/> named for a container, with its id.</summary>
    private static IEnumerable<(string Id, string Directory)> ContainerCgroups(string directory, int depth)
    {
        foreach (string child in Subdirectories(directory))
        {
            if (ContainerId(Path.GetFileName(child)) is { } id)
            {
                yield return (id, child);
            }
            else if (depth < MaxDepth)
            {
                foreach (var found in ContainerCgroups(child, depth + 1))
                {
                    yield return found;
                }
            }
        }
    }

    /// <summary>A container's id in its cgroup's name: <c>ID</c> (cgroupfs driver) or <c>docker-ID.scope</c> (systemd driver); else null.</summary>
    internal static string? ContainerId(string name)
    {
        if (name.StartsWith("docker-", StringComparison.Ordinal) && name.EndsWith(".scope", StringComparison.Ordinal))
        {
            name = name["docker-".Length..^".scope".Length];
        }
        return name.Length == 64 && name.All(char.IsAsciiHexDigitLower) ? name : null;
    }

    /// <summary>The processes of a cgroup and of those below it (a container may make its own).</summary>
    private static IEnumerable<int> Processes(string cgroup, int depth)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(Path.Combine(cgroup, "cgroup.procs"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lines = [];
        }
        foreach (string line in lines)
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                yield return pid;
            }
        }
        if (depth < MaxDepth)
        {
            foreach (string child in Subdirectories(cgroup))
            {
                foreach (int pid in Processes(child, depth + 1))
                {
                    yield return pid;
                }
            }
        }
    }

    private static string[] Subdirectories(string directory)
    {
        try
        {
            return Directory.GetDirectories(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The container's name as docker shows it (without the leading /); its short id when its configuration cannot be read.</summary>
    private string NameOf(string id)
    {
        if (_names.TryGetValue(id, out string? name))
        {
            return name;
        }
        name = ReadName(Path.Combine(_containers, id, "config.v2.json")) ?? id[..12];
        _names[id] = name;
        return name;
    }

    internal static string? ReadName(string configPath)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(configPath));
            return document.RootElement.TryGetProperty("Name", out var name) && name.GetString() is { Length: > 1 } text
                ? text.TrimStart('/')
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
