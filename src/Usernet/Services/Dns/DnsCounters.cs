namespace Usernet.Services.Dns;

/// <summary>What the DNS server did, for <c>usernet stats</c>.</summary>
internal sealed class DnsCounters
{
    public long Queries;
    public long TcpQueries;
    public long TcpConnections;
    public long AnsweredLocal;
    public long AnsweredFromCache;
    public long AnsweredByHost;
    public long AnsweredByUpstream;
    public long JoinedLookup;
    public long Inhibited;
    public long Truncated;
    public long NameErrors;
    public long ServerFailures;
    public long FormatErrors;
    public long NotImplemented;
    public long Refused;
    public long DroppedMalformed;
    public long DroppedWaiters;
    public long Timeouts;
    public long Overloaded;
    public long ResolvConfReloads;
}
