using System.Net.Sockets;
using Usernet.Platform;

namespace Usernet.Services.Forwarding;

/// <summary>
/// Who holds a local port, for an error worth reading: the socket is found in
/// /proc/net/{tcp,udp}{,6} (<see cref="ProcNetTable"/>) by port, and its inode among the fds of
/// the processes we may see. Once Usernet has given up its capabilities (<c>security.capabilities</c>),
/// that is no longer every process: the fds of one with more privileges (or of another user)
/// are closed to it, and the error then says that much.
/// </summary>
internal static class PortHolder
{
    public static string? Describe(int port, PublishProtocol protocol)
    {
        // Our TCP listeners set SO_REUSEADDR, so only a listening socket can hold a TCP port
        // against them; UDP ones do not, so any UDP socket bound to the port holds it.
        var inodes = ProcNetTable.Read("/proc/net", protocol == PublishProtocol.Tcp ? ProtocolType.Tcp : ProtocolType.Udp)
            .Where(s => s.Local.Port == port && (protocol == PublishProtocol.Udp || s.IsListening))
            .Select(s => s.Inode)
            .ToHashSet();
        if (inodes.Count == 0)
        {
            return null;
        }
        foreach (var (pid, directory) in ProcFs.Processes())
        {
            if (ProcFs.SocketInodes(directory).Any(inodes.Contains))
            {
                string name = ReadLines(Path.Combine(directory, "comm")).FirstOrDefault() ?? "?";
                return $"{name} (pid {pid})";
            }
        }
        return "a process Usernet may not look into (another user's, or one with more privileges)";
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
}
