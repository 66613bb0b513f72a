namespace Usernet.Stack.Egress;

/// <summary>
/// The policy's verdict on one new flow, and what decided it: the rule's index in the
/// effective list (as <c>usernet config</c> shows it), or <see cref="DefaultRule"/> for the default.
/// </summary>
internal readonly record struct EgressDecision(bool Allowed, int Rule)
{
    public const int DefaultRule = -1;

    public bool ByDefault => Rule == DefaultRule;

    /// <summary>The setting that decided, as the flow log and the metrics name it: "egress.rules[3]" or "egress.default".</summary>
    public string RuleName => ByDefault ? "egress.default" : RuleNameOf(Rule);

    public static string RuleNameOf(int index) => $"egress.rules[{index}]";

    public string VerdictName => Allowed ? "allow" : "deny";
}
