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
}
