namespace Usernet.Netns;

/// <summary>
/// The Debian (and Ubuntu) packages of the tools people most often run first in a namespace,
/// so that "command not found" can say what to install: a minimal machine has none of them.
/// </summary>
internal static class CommandPackages
{
    private static readonly Dictionary<string, string> Packages = new(StringComparer.Ordinal)
    {
        ["ping"] = "iputils-ping",
        ["curl"] = "curl",
        ["dig"] = "bind9-dnsutils",
        ["ip"] = "iproute2",
        ["nc"] = "netcat-openbsd",
        ["ssh"] = "openssh-client",
    };

    /// <summary>The package that provides <paramref name="command"/> (a name or a path), or null when it is not one of the usual tools.</summary>
    public static string? For(string command) => Packages.GetValueOrDefault(Path.GetFileName(command));

    /// <summary>What to add to "command not found" for <paramref name="command"/>: empty when no package is known.</summary>
    public static string Hint(string command) =>
        For(command) is { } package ? $" (it is in the package {package}: apt-get install {package})" : "";
}
