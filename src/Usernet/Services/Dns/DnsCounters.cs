using System.Text.Json;
using Usernet.Platform;

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

    /// <summary>Lookups that the host's getaddrinfo or every nameserver failed (not timeouts: <see cref="Timeouts"/>).</summary>
    public long UpstreamFailures;
    public long Overloaded;
    public long ResolvConfReloads;

    /// <summary>From each query to its response: zero for what the names, the cache or a refusal answer at once.</summary>
    public DurationHistogram AnswerTime { get; } = new();

    /// <summary>Queries refused for a name the egress policy denies (egress.dnsRefusal).</summary>
    public long EgressRefused;

    /// <summary>Writes the counters into the object being written, named as the README's DNS section names them.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteNumber("queries", Queries);
        writer.WriteNumber("tcpQueries", TcpQueries);
        writer.WriteNumber("tcpConnections", TcpConnections);
        writer.WriteNumber("local", AnsweredLocal);
        writer.WriteNumber("cached", AnsweredFromCache);
        writer.WriteNumber("hostResolver", AnsweredByHost);
        writer.WriteNumber("upstream", AnsweredByUpstream);
        writer.WriteNumber("joinedLookup", JoinedLookup);
        writer.WriteNumber("inhibited", Inhibited);
        writer.WriteNumber("truncated", Truncated);
        writer.WriteNumber("nxdomain", NameErrors);
        writer.WriteNumber("servfail", ServerFailures);
        writer.WriteNumber("formerr", FormatErrors);
        writer.WriteNumber("notimp", NotImplemented);
        writer.WriteNumber("refused", Refused);
        writer.WriteNumber("droppedMalformed", DroppedMalformed);
        writer.WriteNumber("droppedWaiters", DroppedWaiters);
        writer.WriteNumber("timeouts", Timeouts);
        writer.WriteNumber("upstreamFailures", UpstreamFailures);
        writer.WriteNumber("overloaded", Overloaded);
        writer.WriteNumber("resolvConfReloads", ResolvConfReloads);
        writer.WriteNumber("egressRefused", EgressRefused);
    }
}
