namespace Usernet.Stack.Egress;

/// <summary>What an egress rule, or the policy's default, does with the flows it matches.</summary>
internal enum EgressAction
{
    Allow,
    Deny,
}
