using System.Globalization;
using System.Text;
using Usernet.Platform.Interop;

namespace Usernet.Services.Docker;

/// <summary>
/// The guest daemon's data root (<c>--data-root</c>) and what Usernet keeps beside Docker's own
/// data, in its <c>usernet/</c> directory: the lock that lets one <c>usernet docker</c> use it at
/// a time, the daemon's log, its configuration directory (the guest's /etc/docker: daemon.json,
/// the engine key, certs.d) and the userland proxy wrapper.
/// </summary>
internal sealed unsafe class DockerDataRoot : IDisposable
{
    private readonly int _lockFd;

    private DockerDataRoot(string path, int lockFd)
    {
        Path = path;
        _lockFd = lockFd;
    }

    public string Path { get; }

    /// <summary>Usernet's files beside the daemon's.</summary>
    public string StateDirectory => System.IO.Path.Combine(Path, "usernet");

    /// <summary>Bound over /etc/docker in the guest, so that the daemon's configuration is its own, not the host daemon's.</summary>
    public string ConfigDirectory => System.IO.Path.Combine(StateDirectory, "etc");

    public string DaemonJson => System.IO.Path.Combine(ConfigDirectory, "daemon.json");

    public string LogPath => System.IO.Path.Combine(StateDirectory, "dockerd.log");

    public string UserlandProxy => System.IO.Path.Combine(StateDirectory, "docker-proxy");

    private string LockPath => System.IO.Path.Combine(StateDirectory, "lock");

    /// <summary><c>/var/lib/usernet/docker</c> for root; <c>$XDG_DATA_HOME/usernet/docker</c> (<c>~/.local/share/...</c>) otherwise.</summary>
    public static string DefaultPath
    {
        get
        {
            if (Libc.GetEUid() == 0)
            {
                return "/var/lib/usernet/docker";
            }
            string? data = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return System.IO.Path.Combine(string.IsNullOrEmpty(data) ? System.IO.Path.Combine(home, ".local", "share") : data, "usernet", "docker");
        }
    }

    /// <summary>
    /// Creates the directories (0700) and takes the lock; throws <see cref="DockerSetupException"/>
    /// when another <c>usernet docker</c> holds it.
    /// </summary>
    public static DockerDataRoot Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path).TrimEnd('/');
        var owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        string state = System.IO.Path.Combine(full, "usernet");
        try
        {
            Directory.CreateDirectory(full, owner);
            Directory.CreateDirectory(state, owner);
            Directory.CreateDirectory(System.IO.Path.Combine(state, "etc"), owner);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DockerSetupException($"--data-root {full}: {e.Message}");
        }
        string lockPath = System.IO.Path.Combine(state, "lock");
        int fd = Libc.Open(lockPath, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180);
        if (fd < 0)
        {
            throw new DockerSetupException($"--data-root {full}: cannot open {lockPath}: {Errno.Describe(Errno.Last)}");
        }
        if (Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB) < 0)
        {
            Libc.Close(fd);
            string holder = ReadHolder(lockPath) is { } pid ? $" (pid {pid})" : "";
            throw new DockerSetupException($"another usernet docker{holder} is running with data root {full}: stop it, or give this one another --data-root");
        }
        // Written through the locked fd: .NET's own file calls take flock too, and would clash
        // with ours. Padded, so that it overwrites a longer pid of an earlier holder.
        byte[] pidText = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture).PadRight(10) + "\n");
        fixed (byte* bytes = pidText)
        {
            Libc.Write(fd, bytes, pidText.Length);
        }
        return new DockerDataRoot(full, fd);
    }

    /// <summary>The pid the holder wrote, read without .NET's flock (which the holder's lock refuses).</summary>
    private static string? ReadHolder(string lockPath)
    {
        int fd = Libc.Open(lockPath, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return null;
        }
        byte* buffer = stackalloc byte[32];
        nint n = Libc.Read(fd, buffer, 32);
        Libc.Close(fd);
        string text = n > 0 ? Encoding.ASCII.GetString(buffer, (int)n).Trim() : "";
        return text.Length > 0 && text.All(char.IsAsciiDigit) ? text : null;
    }

    /// <summary>An empty daemon.json, unless the user has written one.</summary>
    public void EnsureDaemonJson()
    {
        if (!File.Exists(DaemonJson))
        {
            File.WriteAllText(DaemonJson, "{}\n");
        }
    }

    /// <summary>
    /// Writes the userland proxy the guest's daemon runs for each published port: Docker's own
    /// docker-proxy, told to listen on every guest address whatever host IP the binding names.
    /// Usernet delivers a host connection to the guest's own address (192.168.65.3), not to
    /// 127.0.0.1 or the host's other addresses, which the guest does not have: a binding such as
    /// <c>-p 127.0.0.1:8080:80</c> would otherwise listen where nothing arrives, and one on a
    /// host address would fail to bind in the guest. Bindings without an IP reach the container
    /// through the daemon's NAT rules, as before.
    /// </summary>
    public void WriteUserlandProxy(string dockerProxy)
    {
        string script = $$"""
            #!/bin/sh
            # Written by usernet docker: dockerd's userland proxy in the guest. The host IP of a
            # binding is the host's (Usernet listens there); in the guest the proxy listens on
            # every address of the binding's family, where Usernet delivers the connections.
            prev=
            for arg do
                shift
                if [ "$prev" = -host-ip ]; then
                    case $arg in
                        *:*) arg=:: ;;
                        *) arg=0.0.0.0 ;;
                    esac
                fi
                prev=$arg
                set -- "$@" "$arg"
            done
            exec '{{dockerProxy.Replace("'", "'\\''", StringComparison.Ordinal)}}' "$@"

            """;
        string temporary = UserlandProxy + ".new";
        File.WriteAllText(temporary, script);
        File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.Move(temporary, UserlandProxy, overwrite: true);
    }

    /// <summary>Whether daemon.json sets <paramref name="key"/> (then a flag for it would make dockerd refuse to start).</summary>
    public bool Configures(string key) => Setting(key) is not null;

    /// <summary>The boolean daemon.json sets <paramref name="key"/> to; null when it does not set one.</summary>
    public bool? Flag(string key) => Setting(key) switch
    {
        System.Text.Json.JsonValueKind.True => true,
        System.Text.Json.JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>The kind of value daemon.json has for <paramref name="key"/>; null when it has none (or does not parse).</summary>
    private System.Text.Json.JsonValueKind? Setting(string key)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(DaemonJson));
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && document.RootElement.TryGetProperty(key, out var value)
                ? value.ValueKind
                : null;
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            // dockerd says what is wrong with the file itself.
            return null;
        }
    }

    /// <summary>Keeps the previous run's log as dockerd.log.1 and starts an empty one.</summary>
    public void RotateLog()
    {
        if (File.Exists(LogPath))
        {
            File.Move(LogPath, LogPath + ".1", overwrite: true);
        }
        File.WriteAllText(LogPath, "");
        File.SetUnixFileMode(LogPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>The last lines of the daemon's log, for an error message.</summary>
    public string LogTail(int lines)
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogPath).TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Releases the lock (the file stays: removing it would race with a new holder).</summary>
    public void Dispose() => Libc.Close(_lockFd);
}
