namespace Usernet.Nat;

/// <summary>
/// What host TCP sockets carried for guests, counted by the sockets themselves. A published
/// port's counters (in Services) add to these: the socket only needs this part, so Nat does
/// not depend on the services above it.
/// </summary>
internal abstract class HostTrafficCounters
{
    public long ActiveConnections;
    public long BytesToGuest;
    public long BytesFromGuest;
}
