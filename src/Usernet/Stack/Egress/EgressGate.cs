using System.Text.Json;

namespace Usernet.Stack.Egress;

/// <summary>
/// The egress policy in force for an instance, the names its DNS server gave out, and the
/// policy's reloads. The policy is swapped whole (<see cref="Replace"/>): a flow decided
/// under the old one keeps its verdict, new flows follow the new one. Read on the loop and
/// on the proxy's threads.
/// </summary>
internal sealed class EgressGate
{
    private volatile EgressPolicy _policy = EgressPolicy.AllowAll;
    private long _reloads;
    private long _reloadsRefused;

    public EgressPolicy Policy => _policy;

    public EgressNameTable Names { get; } = new();

    public long Reloads => Interlocked.Read(ref _reloads);

    public long ReloadsRefused => Interlocked.Read(ref _reloadsRefused);

    /// <summary>Puts <paramref name="policy"/> in force: at start, and on a reload that changed the egress settings.</summary>
    public void Replace(EgressPolicy policy, bool reload)
    {
        _policy = policy;
        if (reload)
        {
            Interlocked.Increment(ref _reloads);
        }
    }

    /// <summary>A reload whose settings did not load: the policy in force stays.</summary>
    public void CountRefusedReload() => Interlocked.Increment(ref _reloadsRefused);

    /// <summary>The policy, its verdicts by rule and the reloads, into the object being written.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        var policy = _policy;
        writer.WriteString("default", policy.Default == EgressAction.Allow ? "allow" : "deny");
        writer.WriteString("tcpRefusal", policy.TcpRefusal == EgressTcpRefusal.Rst ? "rst" : "icmp");
        writer.WriteString("dnsRefusal", policy.DnsRefusal == EgressDnsRefusal.NxDomain ? "nxdomain" : "refused");
        policy.Counters.WriteJson(writer, policy.Rules);
        writer.WriteNumber("learnedAddresses", Names.Count);
        writer.WriteNumber("reloads", Reloads);
        writer.WriteNumber("reloadsRefused", ReloadsRefused);
    }
}
