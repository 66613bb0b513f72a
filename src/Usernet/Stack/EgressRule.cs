using Usernet.Stack.Egress;
using Usernet.Wire;

namespace Usernet.Stack;

/// <summary>
/// Where a new flow from a guest may go, decided once per flow (TCP SYN, first UDP datagram,
/// first echo request) and for the HTTP proxy's direct connections alike. The rule on the
/// host's loopback: 0.0.0.0/8, 127.0.0.0/8, ::, ::1 and their IPv4-mapped and
/// IPv4-compatible forms are reachable only as the host address (<see cref="StackOptions.Host"/>,
/// <see cref="StackOptions.HostV6"/>), and only while <see cref="StackOptions.HostLoopback"/>
/// is on. Named directly they are always refused: the guest's own loopback never leaves the
/// guest, so a packet on the link addressed to it is forged, and on Linux a host connect() to
/// 0.0.0.0 or :: reaches the host's loopback too.
///
/// What a refusal looks like, by protocol:
/// - TCP: RST to the SYN, as a host with nothing listening answers (RFC 9293 §3.10.7.1),
///   so the guest's connect() fails at once with "connection refused".
/// - UDP and ICMP echo: destination unreachable, communication administratively prohibited,
///   from the gateway (a router's filter, RFC 1812 §5.2.7.1; ping prints "Packet filtered").
/// - The HTTP proxy: 502 naming the destination.
///
/// The egress policy (<see cref="EgressPolicy"/>, egress.* in the settings) is applied here too,
/// after this rule, to what would leave through a host socket; its refusals look the same,
/// except that egress.tcpRefusal can make TCP's an ICMP "administratively prohibited".
/// </summary>
internal static class EgressRule
{
    /// <summary>
    /// Decides where a flow to <paramref name="destination"/> goes; <paramref name="target"/>
    /// is the address a host socket connects to (the host's loopback for the host address).
    /// </summary>
    public static EgressVerdict Decide(StackOptions options, IpAddress destination, out IpAddress target)
    {
        target = destination;
        if (destination == options.GatewayOf(destination) || (!destination.IsV4 && destination.V6 == options.GatewayLinkLocal))
        {
            return EgressVerdict.Gateway;
        }
        if (destination == options.HostOf(destination))
        {
            if (!options.HostLoopback)
            {
                return EgressVerdict.Refused;
            }
            target = StackOptions.LoopbackOf(destination);
            return EgressVerdict.HostLoopback;
        }
        return IsHostLocal(destination) ? EgressVerdict.Refused : EgressVerdict.Direct;
    }

    /// <summary>
    /// The loopback rule above, then the egress policy for what would leave through a host
    /// socket (<see cref="EgressVerdict.Direct"/> and <see cref="EgressVerdict.HostLoopback"/>):
    /// <see cref="EgressVerdict.Denied"/> when it refuses. The gateway's own services are never
    /// the policy's. <paramref name="memo"/> holds the flow's last decision: a destination
    /// decided under the same policy is not matched (nor counted) again. The memo holds the
    /// decision for <paramref name="destination"/> whenever the verdict is Direct, HostLoopback or Denied.
    /// </summary>
    public static EgressVerdict Decide(StackOptions options, EgressPolicy policy, EgressNameTable? names, EgressProtocols protocol,
        IpEndpoint destination, string? name, Instant now, ref EgressMemo memo, out IpAddress target)
    {
        var verdict = Decide(options, destination.Address, out target);
        if (verdict is not (EgressVerdict.Direct or EgressVerdict.HostLoopback))
        {
            return verdict;
        }
        if (policy.AllowsAll)
        {
            // Nothing to match or count; the memo still says, for the flow log, that the default let it out.
            memo.Remember(policy, destination, new EgressDecision(true, EgressDecision.DefaultRule));
            return verdict;
        }
        if (!memo.Recalls(policy, destination))
        {
            memo.Remember(policy, destination, policy.Decide(protocol, destination.Address, destination.Port, verdict == EgressVerdict.HostLoopback, name, names, now));
        }
        return memo.Decision.Allowed ? verdict : EgressVerdict.Denied;
    }

    /// <summary>
    /// Whether an address means "this host" to the kernel: 127.0.0.0/8 (RFC 1122 §3.2.1.3(g))
    /// and 0.0.0.0/8 (§3.2.1.3(a)), which Linux routes to loopback; :: and ::1; and the same
    /// IPv4 blocks in ::ffff:0:0/96 (an <see cref="IpAddress"/> holds those as IPv4) and in
    /// the deprecated IPv4-compatible ::/96 (RFC 4291 §2.5.5.1), which holds :: and ::1 too.
    /// </summary>
    public static bool IsHostLocal(IpAddress address)
    {
        uint low;
        if (address.IsV4)
        {
            low = address.V4.Value;
        }
        else if (address.V6.Value >> 32 == UInt128.Zero)
        {
            low = (uint)address.V6.Value;
        }
        else
        {
            return false;
        }
        return (low >> 24) is 0 or 127;
    }
}
