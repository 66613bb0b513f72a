namespace Usernet.Services.Forwarding;

/// <summary>What went through one published port, for <c>usernet port ls</c>.</summary>
internal sealed class PublishCounters
{
    public long Connections;
    public long ActiveConnections;
    public long Refused;
    public long BytesToGuest;
    public long BytesFromGuest;
    public long DatagramsToGuest;
    public long DatagramsFromGuest;
}
