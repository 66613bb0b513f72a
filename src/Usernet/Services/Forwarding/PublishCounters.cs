using System.Text.Json;
using Usernet.Nat;

namespace Usernet.Services.Forwarding;

/// <summary>What went through one published port, for <c>usernet port ls</c>.</summary>
internal sealed class PublishCounters : HostTrafficCounters
{
    public long Connections;
    public long Refused;
    public long DatagramsToGuest;
    public long DatagramsFromGuest;
    public long ClientsEvicted;
    public long ClientsExpired;

    /// <summary>Writes the counters into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("connections", Connections);
        writer.WriteNumber("activeConnections", ActiveConnections);
        writer.WriteNumber("refused", Refused);
        writer.WriteNumber("bytesToGuest", BytesToGuest);
        writer.WriteNumber("bytesFromGuest", BytesFromGuest);
        writer.WriteNumber("datagramsToGuest", DatagramsToGuest);
        writer.WriteNumber("datagramsFromGuest", DatagramsFromGuest);
        writer.WriteNumber("clientsEvicted", ClientsEvicted);
        writer.WriteNumber("clientsExpired", ClientsExpired);
    }

    /// <summary>Adds <paramref name="other"/>'s counts to these (the totals of all published ports).</summary>
    public void Add(PublishCounters other)
    {
        Connections += other.Connections;
        ActiveConnections += other.ActiveConnections;
        Refused += other.Refused;
        BytesToGuest += other.BytesToGuest;
        BytesFromGuest += other.BytesFromGuest;
        DatagramsToGuest += other.DatagramsToGuest;
        DatagramsFromGuest += other.DatagramsFromGuest;
        ClientsEvicted += other.ClientsEvicted;
        ClientsExpired += other.ClientsExpired;
    }
}
