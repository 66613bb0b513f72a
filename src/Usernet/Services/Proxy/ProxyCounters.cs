using System.Text.Json;

namespace Usernet.Services.Proxy;

/// <summary>The proxy's counters, for usernet stats; updated from pool threads, so with Interlocked.</summary>
internal sealed class ProxyCounters
{
    public long Connections;
    public long Active;
    public long Requests;
    public long Tunnels;
    public long Transparent;
    public long Blocked;
    public long Malformed;
    public long UpstreamFailures;
    public long Refused;
    public long OverBudget;
    public long Timeouts;
    public long Reloads;
    public long ReloadsRefused;

    /// <summary>Writes the counters into the object being written; on any thread.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("connections", Interlocked.Read(ref Connections));
        writer.WriteNumber("active", Interlocked.Read(ref Active));
        writer.WriteNumber("requests", Interlocked.Read(ref Requests));
        writer.WriteNumber("tunnels", Interlocked.Read(ref Tunnels));
        writer.WriteNumber("transparent", Interlocked.Read(ref Transparent));
        writer.WriteNumber("blocked", Interlocked.Read(ref Blocked));
        writer.WriteNumber("malformed", Interlocked.Read(ref Malformed));
        writer.WriteNumber("upstreamFailures", Interlocked.Read(ref UpstreamFailures));
        writer.WriteNumber("refused", Interlocked.Read(ref Refused));
        writer.WriteNumber("overBudget", Interlocked.Read(ref OverBudget));
        writer.WriteNumber("timeouts", Interlocked.Read(ref Timeouts));
        writer.WriteNumber("reloads", Interlocked.Read(ref Reloads));
        writer.WriteNumber("reloadsRefused", Interlocked.Read(ref ReloadsRefused));
    }
}
