namespace Usernet.Stack.Udp;

/// <summary>What UDP NAT did, for <c>usernet stats</c>.</summary>
internal sealed class UdpCounters
{
    public long FlowsOpened;
    public long FlowsExpired;
    public long FlowsEvicted;
    public long DatagramsFromGuest;
    public long DatagramsToGuest;
    public long BytesFromGuest;
    public long BytesToGuest;
    public long SendDropped;
    public long TooBig;
    public long IcmpErrorsRelayed;
    public long SocketFailures;
}
