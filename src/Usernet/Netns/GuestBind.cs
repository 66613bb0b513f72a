namespace Usernet.Netns;

/// <summary>
/// A host directory the guest sees at <see cref="Target"/>: a bind mount made in the guest's
/// mount namespace only, so that a socket either side creates in it is seen by the other.
/// </summary>
internal sealed record GuestBind(string Source, string Target);
