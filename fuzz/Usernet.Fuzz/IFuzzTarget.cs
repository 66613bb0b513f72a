namespace Usernet.Fuzz;

/// <summary>
/// One fuzz target: takes an input, runs it against fresh state, and throws when the property
/// fails. Any exception that leaves <see cref="Run"/> is a finding: an exception Usernet let
/// escape a handler, or a <see cref="PropertyException"/> from the target's own checks.
/// </summary>
internal interface IFuzzTarget
{
    void Run(ReadOnlySpan<byte> input);
}
