using System.Globalization;
using System.Text;

namespace Usernet.Netns;

/// <summary>
/// The cgroup of a guest that has a cgroup namespace of its own (<see cref="GuestSetup.CgroupNamespace"/>):
/// a directory made for one run at the top of the host's cgroup2 hierarchy, which the init is
/// started in and which becomes the root of its namespace. Mounting cgroup2 without such a
/// namespace would show the guest the host's whole tree, and what a container engine created
/// there would stay behind. <see cref="Remove"/> takes it away, with everything the guest made
/// below it, once the guest has ended. Needs root (or a delegated hierarchy).
/// </summary>
internal sealed class GuestCgroup
{
    private const string Prefix = "usernet-";

    private GuestCgroup(string path) => Path = path;

    /// <summary>The cgroup's directory on the host.</summary>
    public string Path { get; }

    /// <summary>Creates the cgroup of instance <paramref name="instance"/>, after removing those earlier runs of it left (a run that was killed).</summary>
    public static GuestCgroup Create(string instance)
    {
        string root = FindHierarchy() ?? throw new InvalidOperationException(
            "no cgroup2 hierarchy is mounted on this host (only cgroup v1): a container engine in the guest needs one, " +
            "for example: mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 none /sys/fs/cgroup/unified");
        string name = Prefix + Sanitize(instance) + "-";
        foreach (string stale in Directory.GetDirectories(root, name + "*"))
        {
            if (int.TryParse(System.IO.Path.GetFileName(stale)[name.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && !Directory.Exists($"/proc/{pid}"))
            {
                TryRemoveTree(stale);
            }
        }
        string path = System.IO.Path.Combine(root, name + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(path);
        return new GuestCgroup(path);
    }

    /// <summary>Moves process <paramref name="pid"/> (the init, before it runs) into this cgroup.</summary>
    public void Enter(int pid) => File.WriteAllText(System.IO.Path.Combine(Path, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Removes the cgroup and its descendants. Call after the guest's init has exited: the
    /// kernel has then ended every process of its PID namespace. One that left the namespace
    /// but not the cgroup (none should) is killed through cgroup.kill. A cgroup may stay busy
    /// for a moment after its last process; this waits up to <paramref name="limit"/>.
    /// </summary>
    public bool Remove(TimeSpan limit)
    {
        string kill = System.IO.Path.Combine(Path, "cgroup.kill");
        if (File.Exists(kill))
        {
            try
            {
                File.WriteAllText(kill, "1");
            }
            catch (IOException)
            {
            }
        }
        var deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        while (!TryRemoveTree(Path))
        {
            if (Environment.TickCount64 >= deadline)
            {
                return false;
            }
            Thread.Sleep(50);
        }
        return true;
    }

    /// <summary>rmdir of every cgroup below <paramref name="path"/>, deepest first, then of itself; whether it is gone.</summary>
    private static bool TryRemoveTree(string path)
    {
        if (!Directory.Exists(path))
        {
            return true;
        }
        try
        {
            foreach (string child in Directory.GetDirectories(path))
            {
                TryRemoveTree(child);
            }
            // A cgroup's files are the kernel's: rmdir removes the directory as if it were empty.
            Directory.Delete(path);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Where this mount namespace has the cgroup2 hierarchy: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host.</summary>
    public static string? FindHierarchy()
    {
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            // ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPEROPTIONS (proc(5))
            string[] fields = line.Split(' ');
            int separator = Array.IndexOf(fields, "-");
            if (fields.Length > 4 && separator > 0 && separator + 1 < fields.Length && fields[separator + 1] == "cgroup2" && fields[3] == "/")
            {
                return Unescape(fields[4]);
            }
        }
        return null;
    }

    /// <summary>mountinfo writes space, tab, newline and backslash as three octal digits after a backslash.</summary>
    private static string Unescape(string field)
    {
        var text = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field.AsSpan(i + 1, 3)))
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }
        return text.ToString();
    }

    private static bool IsOctal(ReadOnlySpan<char> digits)
    {
        foreach (char c in digits)
        {
            if (c is < '0' or > '7')
            {
                return false;
            }
        }
        return true;
    }

    private static string Sanitize(string name) =>
        new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
}
