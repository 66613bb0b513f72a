namespace Usernet.Cli.Doctor;

/// <summary>What a check found: ok, a feature missing (warn), Usernet cannot run (fail), or not applicable here (skip).</summary>
internal enum CheckStatus
{
    Ok,
    Warn,
    Fail,
    Skip,
}
