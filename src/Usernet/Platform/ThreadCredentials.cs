using System.Globalization;

namespace Usernet.Platform;

/// <summary>
/// A thread's credentials as /proc/PID/task/TID/status shows them (CapInh, CapPrm, CapEff,
/// CapBnd, CapAmb, NoNewPrivs). <see cref="Bounding"/> null: not looked at.
/// </summary>
internal sealed record ThreadCredentials(
    CapabilitySet Effective, CapabilitySet Permitted, CapabilitySet Inheritable, CapabilitySet Ambient, CapabilitySet? Bounding, bool NoNewPrivileges)
{
    /// <summary>Whether <paramref name="actual"/> has exactly these sets (and the bounding set, when this one names it).</summary>
    public bool IsMetBy(ThreadCredentials actual) =>
        actual.Effective == Effective && actual.Permitted == Permitted && actual.Inheritable == Inheritable
        && actual.Ambient == Ambient && actual.NoNewPrivileges == NoNewPrivileges
        && (Bounding is null || actual.Bounding == Bounding);

    /// <summary>Thread <paramref name="tid"/> of this process; null when it has gone.</summary>
    public static ThreadCredentials? Read(int tid) => Parse($"/proc/self/task/{tid}/status");

    /// <summary>A status file of /proc (of any process or thread); null when it cannot be read.</summary>
    public static ThreadCredentials? Parse(string statusPath)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(statusPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        CapabilitySet Field(string name)
        {
            string? line = lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal));
            return line is null ? CapabilitySet.Empty : new CapabilitySet(ulong.Parse(line[(name.Length + 1)..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        bool noNewPrivileges = lines.Any(l => l.StartsWith("NoNewPrivs:", StringComparison.Ordinal) && l.EndsWith('1'));
        return new ThreadCredentials(Field("CapEff"), Field("CapPrm"), Field("CapInh"), Field("CapAmb"), Field("CapBnd"), noNewPrivileges);
    }
}
