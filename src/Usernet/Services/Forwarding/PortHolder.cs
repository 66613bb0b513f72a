using System.Globalization;

namespace Usernet.Services.Forwarding;

/// <summary>
/// Who holds a local port, for an error worth reading: the socket is found in
/// /proc/net/{tcp,udp}{,6} by port, and its inode among the fds of the processes we may see.
/// </summary>
internal static class PortHolder
{
    public static string? Describe(int port, PublishProtocol protocol)
    {
        var inodes = new HashSet<string>();
        string kind = protocol == PublishProtocol.Tcp ? "tcp" : "udp";
        foreach (string file in new[] { $"/proc/net/{kind}", $"/proc/net/{kind}6" })
        {
            foreach (string line in ReadLines(file).Skip(1))
            {
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10)
                {
                    continue;
                }
                string local = fields[1];
                int colon = local.LastIndexOf(':');
                bool listening = protocol == PublishProtocol.Udp || fields[3] == "0A";
                if (colon > 0 && listening && int.TryParse(local[(colon + 1)..], NumberStyles.HexNumber, null, out int localPort) && localPort == port)
                {
                    inodes.Add(fields[9]);
                }
            }
        }
        if (inodes.Count == 0)
        {
            return null;
        }
        foreach (string directory in SafeDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid))
            {
                continue;
            }
            foreach (string fd in SafeFiles(Path.Combine(directory, "fd")))
            {
                string? target = SafeLinkTarget(fd);
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) && inodes.Contains(target[8..^1]))
                {
                    string name = ReadLines(Path.Combine(directory, "comm")).FirstOrDefault() ?? "?";
                    return $"{name} (pid {pid})";
                }
            }
        }
        return null;
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static IEnumerable<string> SafeDirectories(string path)
    {
        try
        {
            return Directory.GetDirectories(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static IEnumerable<string> SafeFiles(string path)
    {
        try
        {
            return Directory.GetFiles(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string? SafeLinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
