using System.Text.Json;

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

    /// <summary>Writes the counters into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("flowsOpened", FlowsOpened);
        writer.WriteNumber("flowsExpired", FlowsExpired);
        writer.WriteNumber("flowsEvicted", FlowsEvicted);
        writer.WriteNumber("datagramsFromGuest", DatagramsFromGuest);
        writer.WriteNumber("datagramsToGuest", DatagramsToGuest);
        writer.WriteNumber("bytesFromGuest", BytesFromGuest);
        writer.WriteNumber("bytesToGuest", BytesToGuest);
        writer.WriteNumber("sendDropped", SendDropped);
        writer.WriteNumber("tooBig", TooBig);
        writer.WriteNumber("icmpErrorsRelayed", IcmpErrorsRelayed);
        writer.WriteNumber("socketFailures", SocketFailures);
    }
}
