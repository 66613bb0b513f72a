namespace Usernet.Cli.Doctor;

/// <summary>
/// One line of <c>usernet doctor</c>: what was looked at, what was found, what it enables, and
/// the command that fixes it when it is not ok. Steps of the self-test also carry their time.
/// </summary>
internal sealed record DoctorCheck(string Name, CheckStatus Status, string Found, string Enables, string? Fix = null)
{
    /// <summary>"host" for a fact about this machine, "self-test" for a step of the live test.</summary>
    public string Group { get; init; } = "host";

    /// <summary>How long a self-test step took.</summary>
    public TimeSpan? Elapsed { get; init; }

    public static DoctorCheck Ok(string name, string found, string enables) => new(name, CheckStatus.Ok, found, enables);

    public static DoctorCheck Warn(string name, string found, string enables, string? fix) => new(name, CheckStatus.Warn, found, enables, fix);

    public static DoctorCheck Fail(string name, string found, string enables, string? fix) => new(name, CheckStatus.Fail, found, enables, fix);

    public static DoctorCheck Skip(string name, string found, string enables) => new(name, CheckStatus.Skip, found, enables);
}
