using Usernet.Nat;

namespace Usernet.Services.Forwarding;

/// <summary>What went through one published port, for <c>usernet port ls</c>.</summary>
internal sealed class PublishCounters : HostTrafficCounters
{
    public long Connections;
    public long Refused;
    public long DatagramsToGuest;
    public long DatagramsFromGuest;
}
