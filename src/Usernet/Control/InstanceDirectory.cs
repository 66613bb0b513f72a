using Usernet.Platform;
using Usernet.Platform.Interop;

namespace Usernet.Control;

/// <summary>
/// Where running instances put their control sockets: <c>$XDG_RUNTIME_DIR/usernet</c>, or
/// <c>/run/usernet</c> for root, or <c>/tmp/usernet-UID</c>. The directory is 0700 and each
/// socket 0600, so only the user who started an instance can drive it.
/// </summary>
internal static class InstanceDirectory
{
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

    public static string SocketPath(string instance) => System.IO.Path.Combine(Path, instance + ".sock");

    public static void EnsureExists()
    {
        string path = Path;
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Names of instances whose sockets answer.</summary>
    public static List<string> Live()
    {
        var names = new List<string>();
        if (!Directory.Exists(Path))
        {
            return names;
        }
        foreach (string file in Directory.GetFiles(Path, "*.sock").Order())
        {
            string name = System.IO.Path.GetFileNameWithoutExtension(file);
            if (IsLive(file))
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
