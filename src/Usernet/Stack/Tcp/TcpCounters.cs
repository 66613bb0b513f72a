using System.Text.Json;

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
    public long InboundLimitReached;
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

    /// <summary>Out-of-order guest segments kept until the hole before them filled.</summary>
    public long OutOfOrderHeld;
    public long OutOfWindow;
    public long ChallengeAcks;
    public long KeepaliveProbes;
    public long KeepaliveTimeouts;
    public long WindowProbes;
    public long PartialWrites;
    public long MssRaised;
    public long Yields;

    /// <summary>Writes the counters into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("opened", Opened);
        writer.WriteNumber("closed", Closed);
        writer.WriteNumber("refused", Refused);
        writer.WriteNumber("unreachable", Unreachable);
        writer.WriteNumber("connectTimeouts", ConnectTimeouts);
        writer.WriteNumber("limitReached", LimitReached);
        writer.WriteNumber("inboundLimitReached", InboundLimitReached);
        writer.WriteNumber("segmentsIn", SegmentsIn);
        writer.WriteNumber("segmentsOut", SegmentsOut);
        writer.WriteNumber("bytesFromGuest", BytesFromGuest);
        writer.WriteNumber("bytesToGuest", BytesToGuest);
        writer.WriteNumber("retransmits", Retransmits);
        writer.WriteNumber("fastRetransmits", FastRetransmits);
        writer.WriteNumber("resetsToGuest", ResetsToGuest);
        writer.WriteNumber("resetsFromGuest", ResetsFromGuest);
        writer.WriteNumber("resetsFromHost", ResetsFromHost);
        writer.WriteNumber("outOfOrder", OutOfOrder);
        writer.WriteNumber("outOfOrderHeld", OutOfOrderHeld);
        writer.WriteNumber("outOfWindow", OutOfWindow);
        writer.WriteNumber("challengeAcks", ChallengeAcks);
        writer.WriteNumber("keepaliveProbes", KeepaliveProbes);
        writer.WriteNumber("keepaliveTimeouts", KeepaliveTimeouts);
        writer.WriteNumber("windowProbes", WindowProbes);
        writer.WriteNumber("partialWrites", PartialWrites);
        writer.WriteNumber("mssRaised", MssRaised);
        writer.WriteNumber("yields", Yields);
    }
}
