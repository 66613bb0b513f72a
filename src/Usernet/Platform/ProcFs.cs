using System.Globalization;

namespace Usernet.Platform;

/// <summary>What /proc says about processes, read without failing on those that end or hide meanwhile.</summary>
internal static class ProcFs
{
    /// <summary>The processes this process may see: their pid and /proc directory.</summary>
    public static IEnumerable<(int Pid, string Directory)> Processes()
    {
        string[] directories;
        try
        {
            directories = System.IO.Directory.GetDirectories("/proc");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }
        foreach (string directory in directories)
        {
            if (int.TryParse(Path.GetFileName(directory), out int pid))
            {
                yield return (pid, directory);
            }
        }
    }

    /// <summary>
    /// The inodes of the sockets a process has open (its fds that link to <c>socket:[INODE]</c>,
    /// proc(5)), which <see cref="ProcNetTable"/> names each socket by. None when the process
    /// has ended or its fds are closed to us.
    /// </summary>
    public static IEnumerable<ulong> SocketInodes(string processDirectory)
    {
        string[] fds;
        try
        {
            fds = System.IO.Directory.GetFiles(Path.Combine(processDirectory, "fd"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }
        foreach (string fd in fds)
        {
            if (LinkTarget(fd) is { } target && target.StartsWith("socket:[", StringComparison.Ordinal)
                && ulong.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
            {
                yield return inode;
            }
        }
    }

    /// <summary>Where a /proc link (an fd, a namespace) points; null when it is gone or closed to us.</summary>
    public static string? LinkTarget(string path)
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
