using System.Text.Json;
using Usernet.Nat;

namespace Usernet.Services.Socks;

/// <summary>What the SOCKS server did, for <c>usernet stats</c>; bytes and open tunnels are counted by the tunnels' sockets.</summary>
internal sealed class SocksCounters : HostTrafficCounters
{
    private readonly long[] _refused = new long[Enum.GetValues<SocksRefusal>().Length];

    public long Accepted;

    /// <summary>Tunnels the guest accepted.</summary>
    public long Connected;

    /// <summary>Clients that closed before their handshake was done.</summary>
    public long Abandoned;

    public long Refused(SocksRefusal refusal) => _refused[(int)refusal];

    public void Refuse(SocksRefusal refusal) => _refused[(int)refusal]++;

    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("accepted", Accepted);
        writer.WriteNumber("connected", Connected);
        writer.WriteNumber("active", ActiveConnections);
        writer.WriteNumber("abandoned", Abandoned);
        writer.WriteNumber("bytesToGuest", BytesToGuest);
        writer.WriteNumber("bytesFromGuest", BytesFromGuest);
        writer.WriteStartObject("refused");
        foreach (var refusal in Enum.GetValues<SocksRefusal>())
        {
            if (refusal != SocksRefusal.None)
            {
                writer.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(refusal.ToString()), _refused[(int)refusal]);
            }
        }
        writer.WriteEndObject();
    }
}
