using Usernet.Control;

namespace Usernet.Cli;

/// <summary>
/// <c>--instance NAME</c>, checked before it becomes part of a path: a name such as
/// <c>../x</c> would put (or look for) a control socket outside the instance directory.
/// </summary>
internal static class InstanceNameOption
{
    /// <summary>The name given, or null; a <see cref="UsageException"/> naming the option when it is not a valid name.</summary>
    public static string? Read(CommandLine line)
    {
        string? name = line.Value("--instance");
        if (name is not null && InstanceDirectory.NameProblem(name) is { } problem)
        {
            throw new UsageException($"--instance: '{name}' {problem} (at most {InstanceDirectory.MaxNameLength} of A-Z, a-z, 0-9, '.', '_' and '-')");
        }
        return name;
    }
}
