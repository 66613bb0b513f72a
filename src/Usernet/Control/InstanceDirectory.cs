using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Control;

/// <summary>
/// Where running instances put their control sockets: <c>$XDG_RUNTIME_DIR/usernet</c>, or
/// <c>/run/usernet</c> for root, or <c>/tmp/usernet-UID</c>. The directory is 0700 and each
/// socket 0600, so only the user who started an instance can drive it. The directory is used
/// only when it is that: in /tmp anyone may have made it first (as a symbolic link, or a
/// directory of their own, full of sockets that answer), so an existing one must be a real
/// directory, the user's own, and closed to everyone else, or nothing is put in or read from it.
/// </summary>
internal static class InstanceDirectory
{
    /// <summary>Instance names are file names in the directory, and so are kept to a safe alphabet.</summary>
    public const int MaxNameLength = 64;

    public static string Path
    {
        get
        {
            string? overridden = Environment.GetEnvironmentVariable("USERNET_RUNTIME_DIR");
            if (!string.IsNullOrEmpty(overridden))
            {
                return overridden;
            }
            string? runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
            if (!string.IsNullOrEmpty(runtime) && Directory.Exists(runtime))
            {
                return System.IO.Path.Combine(runtime, "usernet");
            }
            return Libc.GetEUid() == 0 ? "/run/usernet" : $"/tmp/usernet-{Libc.GetEUid()}";
        }
    }

    /// <summary>What is wrong with <paramref name="name"/> as an instance name; null when nothing is.</summary>
    public static string? NameProblem(string name)
    {
        if (name.Length == 0 || name.Length > MaxNameLength)
        {
            return $"must be 1 to {MaxNameLength} characters long";
        }
        if (name is "." or "..")
        {
            return "is not a name";
        }
        return name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
            ? null
            : "may hold only letters, digits, '.', '_' and '-'";
    }

    /// <summary>The control socket of instance <paramref name="instance"/>, whose name must be valid.</summary>
    public static string SocketPath(string instance) =>
        NameProblem(instance) is { } problem
            ? throw new ArgumentException($"instance name '{instance}' {problem}", nameof(instance))
            : System.IO.Path.Combine(Path, instance + ".sock");

    /// <summary>Creates the directory 0700, or checks the one there (<see cref="Problem"/>); an <see cref="IOException"/> says what is wrong.</summary>
    public static void EnsureExists()
    {
        string path = Path;
        if (OwnerOnlyFiles.Create(() => Libc.Mkdir(path, 0x1C0)) == 0)
        {
            return;
        }
        int errno = Errno.Last;
        if (errno != Errno.EEXIST)
        {
            throw new IOException($"cannot create the control socket directory {path}: {Errno.Describe(errno)}");
        }
        CheckPrivate(path);
    }

    /// <summary>
    /// Why <paramref name="path"/> may not hold control sockets; null when it is a directory (not a
    /// symbolic link) of this user, which no one else may read, write or enter.
    /// </summary>
    public static string? Problem(string path)
    {
        if (!FileStatus.TryOfPath(path, out var status, out int errno))
        {
            return Errno.Describe(errno);
        }
        int uid = Libc.GetEUid();
        return status switch
        {
            { IsSymbolicLink: true } => "it is a symbolic link",
            { IsDirectory: false } => "it is not a directory",
            _ when status.Owner != uid => $"it belongs to uid {status.Owner}, not to uid {uid}",
            { OthersMayUse: true } => $"its mode is {status.Octal}, not 0700",
            _ => null,
        };
    }

    /// <summary>The directory for a client: null when there is none (no instance runs), else checked as <see cref="EnsureExists"/> checks it.</summary>
    private static string? ExistingPath()
    {
        string path = Path;
        if (!FileStatus.TryOfPath(path, out _, out _))
        {
            return null;
        }
        CheckPrivate(path);
        return path;
    }

    private static void CheckPrivate(string path)
    {
        if (Problem(path) is { } problem)
        {
            throw new IOException($"{path} cannot hold control sockets: {problem}. Remove it (Usernet then creates it, mode 0700), or point XDG_RUNTIME_DIR elsewhere");
        }
    }

    /// <summary>Names of instances whose sockets answer; an <see cref="IOException"/> when the directory is not private.</summary>
    public static List<string> Live()
    {
        var names = new List<string>();
        if (ExistingPath() is not { } path)
        {
            return names;
        }
        foreach (string file in Directory.GetFiles(path, "*.sock").Order())
        {
            string name = System.IO.Path.GetFileNameWithoutExtension(file);
            if (NameProblem(name) is null && IsLive(file))
            {
                names.Add(name);
            }
        }
        return names;
    }

    public static bool IsLive(string socketPath) => PrivateUnixSocket.IsLive(socketPath);

    /// <summary>The instance a CLI command talks to: the one named, or the only one running.</summary>
    public static string Resolve(string? requested)
    {
        if (requested is not null)
        {
            ExistingPath();
            string path = SocketPath(requested);
            if (!IsLive(path))
            {
                throw new InvalidOperationException($"no running usernet instance named '{requested}' (no live socket at {path})");
            }
            return path;
        }
        var live = Live();
        return live.Count switch
        {
            0 => throw new InvalidOperationException($"no running usernet instance (looked in {Path})"),
            1 => SocketPath(live[0]),
            _ => throw new InvalidOperationException(
                $"{live.Count} usernet instances are running ({string.Join(", ", live)}): choose one with --instance NAME"),
        };
    }
}
