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
    public long Reloads;
    public long ReloadsRefused;
}
