namespace Usernet.Stack.Egress;

/// <summary>
/// The policy's verdict on one new flow, and what decided it: the rule's index in the
/// effective list (as <c>usernet config</c> shows it), or <see cref="DefaultRule"/> for the default.
/// </summary>
internal readonly record struct EgressDecision(bool Allowed, int Rule)
{
    public const int DefaultRule = -1;

    public bool ByDefault => Rule == DefaultRule;
}
