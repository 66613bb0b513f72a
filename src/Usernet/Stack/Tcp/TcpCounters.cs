namespace Usernet.Stack.Tcp;

/// <summary>What the TCP engine did, for <c>usernet stats</c>.</summary>
internal sealed class TcpCounters
{
    public long Opened;
    public long Closed;
    public long Refused;
    public long Unreachable;
    public long ConnectTimeouts;
    public long LimitReached;
    public long SegmentsIn;
    public long SegmentsOut;
    public long BytesFromGuest;
    public long BytesToGuest;
    public long Retransmits;
    public long FastRetransmits;
    public long ResetsToGuest;
    public long ResetsFromGuest;
    public long ResetsFromHost;
    public long OutOfOrder;
    public long OutOfWindow;
    public long ChallengeAcks;
    public long KeepaliveProbes;
    public long KeepaliveTimeouts;
    public long WindowProbes;
    public long PartialWrites;
}
