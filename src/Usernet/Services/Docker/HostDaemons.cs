using System.Text;
using System.Text.Json;
using Usernet.Platform;

namespace Usernet.Services.Docker;

/// <summary>
/// The Docker daemons already running that this process can see, and the data root each uses:
/// two daemons on one data root corrupt each other's state (containerd's and libnetwork's
/// databases, the overlay layers), so <c>usernet docker</c> refuses to start beside one.
/// </summary>
internal static class HostDaemons
{
    /// <summary>A description of a dockerd that uses <paramref name="dataRoot"/>, or null when none does.</summary>
    public static string? UsingDataRoot(string dataRoot)
    {
        string wanted = Normalize(dataRoot);
        foreach (var (pid, directory) in ProcFs.Processes())
        {
            string[]? arguments = CommandLine(directory);
            if (arguments is not { Length: > 0 } || Path.GetFileName(arguments[0]) != "dockerd")
            {
                continue;
            }
            if (Normalize(DataRootOf(arguments)) == wanted)
            {
                return $"dockerd (pid {pid})";
            }
        }
        return null;
    }

    /// <summary>
    /// The data root a dockerd command line gives: <c>--data-root</c> (or the old <c>-g</c>,
    /// <c>--graph</c>), else its configuration file's <c>data-root</c>, else /var/lib/docker.
    /// </summary>
    internal static string DataRootOf(IReadOnlyList<string> arguments)
    {
        string configFile = "/etc/docker/daemon.json";
        for (int i = 1; i < arguments.Count; i++)
        {
            string argument = arguments[i];
            foreach (string flag in (string[])["--data-root", "--graph", "-g"])
            {
                if (argument == flag && i + 1 < arguments.Count)
                {
                    return arguments[i + 1];
                }
                if (argument.StartsWith(flag + "=", StringComparison.Ordinal))
                {
                    return argument[(flag.Length + 1)..];
                }
            }
            if (argument == "--config-file" && i + 1 < arguments.Count)
            {
                configFile = arguments[i + 1];
            }
            else if (argument.StartsWith("--config-file=", StringComparison.Ordinal))
            {
                configFile = argument["--config-file=".Length..];
            }
        }
        return ConfiguredDataRoot(configFile) ?? "/var/lib/docker";
    }

    private static string? ConfiguredDataRoot(string configFile)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(configFile));
            foreach (string key in (string[])["data-root", "graph"])
            {
                if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(key, out var value)
                    && value.ValueKind == JsonValueKind.String)
                {
                    return value.GetString();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
        }
        return null;
    }

    private static string[]? CommandLine(string processDirectory)
    {
        try
        {
            return Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(processDirectory, "cmdline"))).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Normalize(string path)
    {
        try
        {
            return Path.GetFullPath(path).TrimEnd('/');
        }
        catch (ArgumentException)
        {
            return path;
        }
    }
}
