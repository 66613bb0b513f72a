using System.Text;
using Usernet.Link;
using Usernet.Stack;
using Usernet.Stack.Egress;

namespace Usernet.Control;

/// <summary>
/// The same counters as <c>GET /stats</c>, in Prometheus' text format (<c>GET /metrics</c> and
/// metrics.listen). Nothing here counts: it reads what each part already keeps, on the loop
/// thread, when scraped. Names follow Prometheus' conventions: <c>usernet_</c>, base units,
/// <c>_total</c> for counters, and labels with a few fixed values each (the one exception,
/// <c>link</c>, has one value per guest link, and <c>rule</c> one per egress rule).
/// </summary>
internal sealed partial class InstanceStats
{
    private const string FromGuest = "from_guest";
    private const string ToGuest = "to_guest";

    public string WritePrometheus()
    {
        var text = new PrometheusText();
        WriteLinks(text);
        WriteDrops(text);
        WriteFlows(text);
        WriteTcp(text);
        WriteDns(text);
        WriteProxy(text);
        WritePublished(text);
        WriteEgress(text);
        text.Gauge("usernet_dhcp_leases", "Addresses leased by the DHCP server.").Sample(dhcp.Pool.Count);
        text.Counter("usernet_faults_total", "Exceptions the loop caught while handling one frame, socket event or timer (what it was handling is dropped).")
            .Sample(loop.Faults.Total);
        return text.ToString();
    }

    private void WriteLinks(PrometheusText text)
    {
        text.Gauge("usernet_links_open", "Guest links attached (TAP devices, QEMU connections, datagram peers).").Sample(network.Links.Count);
        text.Counter("usernet_links_opened_total", "Guest links attached since start.").Sample(network.Counters.LinksOpened);
        text.Counter("usernet_link_frames_total", "Ethernet frames on each guest link.");
        foreach (var link in network.Links)
        {
            text.Sample(link.Counters.FramesIn, "link", link.Description, "direction", FromGuest)
                .Sample(link.Counters.FramesOut, "link", link.Description, "direction", ToGuest);
        }
        text.Counter("usernet_link_bytes_total", "Bytes of Ethernet frames on each guest link.");
        foreach (var link in network.Links)
        {
            text.Sample(link.Counters.BytesIn, "link", link.Description, "direction", FromGuest)
                .Sample(link.Counters.BytesOut, "link", link.Description, "direction", ToGuest);
        }
        text.Counter("usernet_link_send_dropped_frames_total", "Frames for a guest dropped because its link's queue was full.");
        foreach (var link in network.Links)
        {
            text.Sample(link.Counters.DroppedOut, "link", link.Description);
        }
        text.Counter("usernet_link_errors_total", "Frames malformed at the link level (a bad length prefix or virtio-net header).");
        foreach (var link in network.Links)
        {
            text.Sample(link.Counters.ErrorsIn, "link", link.Description);
        }
        text.Counter("usernet_stack_frames_total", "Frames the stack received from guests and sent to them.")
            .Sample(stack.Counters.FramesIn, "direction", FromGuest)
            .Sample(stack.Counters.FramesOut, "direction", ToGuest);
        text.Counter("usernet_switch_frames_total", "Frames the switch passed from one guest to another, or flooded to every guest.")
            .Sample(network.Counters.BetweenGuests, "path", "between_guests")
            .Sample(network.Counters.Flooded, "path", "flooded");
    }

    /// <summary>Every reason, zeros too, so that a series exists before its first drop.</summary>
    private void WriteDrops(PrometheusText text)
    {
        var counters = network.Counters;
        text.Counter("usernet_dropped_frames_total", "Frames from guests dropped, by the layer that dropped them and why.")
            .Sample(counters.Truncated, "layer", "switch", "reason", "truncated")
            .Sample(counters.BadChecksumOffload, "layer", "switch", "reason", "bad_checksum_offload")
            .Sample(counters.BadSourceMac, "layer", "switch", "reason", "bad_source_mac")
            .Sample(counters.MacSpoofed, "layer", "switch", "reason", "mac_spoofed")
            .Sample(counters.MacTableFull, "layer", "switch", "reason", "mac_table_full")
            .Sample(counters.AddressSpoofed, "layer", "switch", "reason", "address_spoofed")
            .Sample(counters.AddressTableFull, "layer", "switch", "reason", "address_table_full")
            .Sample(counters.RouterMessages, "layer", "switch", "reason", "router_message")
            .Sample(counters.DhcpServerMessages, "layer", "switch", "reason", "dhcp_server_message")
            .Sample(counters.Unverifiable, "layer", "switch", "reason", "unverifiable");
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            text.Sample(stack.Counters.Dropped(reason), "layer", "stack", "reason", SnakeCase(reason.ToString()));
        }
    }

    private void WriteFlows(PrometheusText text)
    {
        text.Gauge("usernet_flows_open", "Flows open now: TCP connections, UDP and ICMP echo NAT flows.")
            .Sample(tcp.Count, "proto", "tcp")
            .Sample(udp.Count, "proto", "udp")
            .Sample(ping.Count, "proto", "icmp");
        text.Counter("usernet_flows_total", "Flows opened since start.")
            .Sample(tcp.Counters.Opened, "proto", "tcp")
            .Sample(udp.Counters.FlowsOpened, "proto", "udp")
            .Sample(ping.FlowsOpened, "proto", "icmp");
        text.Counter("usernet_udp_flows_ended_total", "UDP flows closed for being idle (expired) or for room in a full table (evicted).")
            .Sample(udp.Counters.FlowsExpired, "reason", "expired")
            .Sample(udp.Counters.FlowsEvicted, "reason", "evicted");
        text.Counter("usernet_bytes_total", "Payload bytes carried for guests: TCP and UDP data, ICMP echo messages.")
            .Sample(tcp.Counters.BytesFromGuest, "proto", "tcp", "direction", FromGuest)
            .Sample(tcp.Counters.BytesToGuest, "proto", "tcp", "direction", ToGuest)
            .Sample(udp.Counters.BytesFromGuest, "proto", "udp", "direction", FromGuest)
            .Sample(udp.Counters.BytesToGuest, "proto", "udp", "direction", ToGuest)
            .Sample(ping.BytesFromGuest, "proto", "icmp", "direction", FromGuest)
            .Sample(ping.BytesToGuest, "proto", "icmp", "direction", ToGuest);
        text.Counter("usernet_packets_total", "Packets carried for guests: TCP segments, UDP datagrams, ICMP echo requests and replies.")
            .Sample(tcp.Counters.SegmentsIn, "proto", "tcp", "direction", FromGuest)
            .Sample(tcp.Counters.SegmentsOut, "proto", "tcp", "direction", ToGuest)
            .Sample(udp.Counters.DatagramsFromGuest, "proto", "udp", "direction", FromGuest)
            .Sample(udp.Counters.DatagramsToGuest, "proto", "udp", "direction", ToGuest)
            .Sample(ping.EchoesSent, "proto", "icmp", "direction", FromGuest)
            .Sample(ping.RepliesRelayed, "proto", "icmp", "direction", ToGuest);
    }

    /// <summary>
    /// The verdicts of the policy in force, by the rule that decided (as the flow log names
    /// it): the default's two, then one per rule, zeros too. A reload builds a new policy
    /// whose counts start at zero, which Prometheus reads as a counter reset.
    /// </summary>
    private void WriteEgress(PrometheusText text)
    {
        var gate = stack.Egress;
        var policy = gate.Policy;
        var counters = policy.Counters;
        text.Counter("usernet_egress_verdicts_total", "Flows the egress policy decided, by the rule that decided (egress.rules[i] as usernet config numbers them, or egress.default) and the verdict; counted from the last reload.")
            .Sample(counters.DefaultAllowed, "rule", "egress.default", "verdict", "allow")
            .Sample(counters.DefaultDenied, "rule", "egress.default", "verdict", "deny");
        for (int i = 0; i < policy.Rules.Count; i++)
        {
            text.Sample(counters.ByRule(i), "rule", EgressDecision.RuleNameOf(i), "verdict", policy.Rules[i].Action == EgressAction.Allow ? "allow" : "deny");
        }
        text.Counter("usernet_egress_reloads_total", "Reloads of the egress settings: applied, or refused (the policy in force stayed).")
            .Sample(gate.Reloads, "outcome", "applied")
            .Sample(gate.ReloadsRefused, "outcome", "refused");
    }

    private void WriteTcp(PrometheusText text)
    {
        var counters = tcp.Counters;
        text.Gauge("usernet_tcp_inbound_connections_open", "TCP connections remote clients opened through published ports.").Sample(tcp.InboundCount);
        text.Counter("usernet_tcp_connect_failures_total", "Guest connections that did not open, by why.")
            .Sample(counters.Refused, "reason", "refused")
            .Sample(counters.Unreachable, "reason", "unreachable")
            .Sample(counters.ConnectTimeouts, "reason", "timeout")
            .Sample(counters.LimitReached, "reason", "limit")
            .Sample(counters.InboundLimitReached, "reason", "inbound_limit");
        text.Counter("usernet_tcp_resets_total", "TCP resets, by who sent them.")
            .Sample(counters.ResetsToGuest, "source", "usernet")
            .Sample(counters.ResetsFromGuest, "source", "guest")
            .Sample(counters.ResetsFromHost, "source", "host");
        text.Counter("usernet_tcp_retransmits_total", "Segments Usernet sent to guests again.").Sample(counters.Retransmits);
        text.Counter("usernet_tcp_fast_retransmits_total", "Fast retransmissions on duplicate acknowledgements (RFC 5681 3.2).").Sample(counters.FastRetransmits);
        text.Counter("usernet_tcp_keepalive_timeouts_total", "Connections closed because the guest stopped answering keepalives.").Sample(counters.KeepaliveTimeouts);
    }

    private void WriteDns(PrometheusText text)
    {
        var counters = dns.Resolver.Counters;
        text.Counter("usernet_dns_queries_total", "DNS queries to the gateway, over UDP and TCP.").Sample(counters.Queries);
        text.Counter("usernet_dns_tcp_connections_total", "TCP connections to the gateway's DNS server.").Sample(counters.TcpConnections);
        text.Counter("usernet_dns_answers_total", "Answers by where they came from (cache: cache hits).")
            .Sample(counters.AnsweredLocal, "source", "local")
            .Sample(counters.AnsweredFromCache, "source", "cache")
            .Sample(counters.AnsweredByHost, "source", "host_resolver")
            .Sample(counters.AnsweredByUpstream, "source", "upstream");
        text.Counter("usernet_dns_error_responses_total", "Responses with an error code.")
            .Sample(counters.NameErrors, "rcode", "nxdomain")
            .Sample(counters.ServerFailures, "rcode", "servfail")
            .Sample(counters.Refused, "rcode", "refused")
            .Sample(counters.FormatErrors, "rcode", "formerr")
            .Sample(counters.NotImplemented, "rcode", "notimp");
        text.Counter("usernet_dns_upstream_failures_total", "Lookups the host's resolver or the nameservers failed: no answer in time, or errors.")
            .Sample(counters.Timeouts, "reason", "timeout")
            .Sample(counters.UpstreamFailures, "reason", "error");
        text.Counter("usernet_dns_dropped_queries_total", "Queries that got no response.")
            .Sample(counters.DroppedMalformed, "reason", "malformed")
            .Sample(counters.DroppedWaiters, "reason", "too_many_waiting");
        text.Counter("usernet_dns_inhibited_total", "Answers emptied by dnsInhibition.").Sample(counters.Inhibited);
        text.Gauge("usernet_dns_cache_entries", "Answers in the DNS cache.").Sample(dns.Resolver.Cache.Count);
        text.Gauge("usernet_dns_lookups_in_flight", "Lookups waiting for the host's resolver or a nameserver.").Sample(dns.Resolver.LookupsInFlight);
        var answerTime = counters.AnswerTime;
        text.HistogramFamily("usernet_dns_answer_duration_seconds", "From a query to its response; 0 for what the local names or the cache answer at once.")
            .Histogram(answerTime.BoundsSeconds, answerTime.CumulativeCounts(), answerTime.SumSeconds, answerTime.Count);
    }

    /// <summary>The proxy's counters are updated on pool threads: read with Interlocked.</summary>
    private void WriteProxy(PrometheusText text)
    {
        var counters = proxy.Counters;
        text.Counter("usernet_proxy_connections_total", "Guest connections to the HTTP proxy (port 3128 and transparent ports).")
            .Sample(Interlocked.Read(ref counters.Connections));
        text.Gauge("usernet_proxy_connections_open", "Guest connections the proxy is serving now.").Sample(Interlocked.Read(ref counters.Active));
        text.Counter("usernet_proxy_transparent_connections_total", "Connections the transparent proxy took (containersProxy.transparentPorts).")
            .Sample(Interlocked.Read(ref counters.Transparent));
        text.Counter("usernet_proxy_requests_total", "Requests read, CONNECT included.").Sample(Interlocked.Read(ref counters.Requests));
        text.Counter("usernet_proxy_tunnels_total", "CONNECT tunnels asked for.").Sample(Interlocked.Read(ref counters.Tunnels));
        text.Counter("usernet_proxy_failures_total", "Requests and connections that failed, by outcome.")
            .Sample(Interlocked.Read(ref counters.Blocked), "outcome", "blocked")
            .Sample(Interlocked.Read(ref counters.Malformed), "outcome", "malformed")
            .Sample(Interlocked.Read(ref counters.UpstreamFailures), "outcome", "upstream_failure")
            .Sample(Interlocked.Read(ref counters.Refused), "outcome", "connection_limit")
            .Sample(Interlocked.Read(ref counters.OverBudget), "outcome", "over_budget")
            .Sample(Interlocked.Read(ref counters.Timeouts), "outcome", "timeout");
    }

    private void WritePublished(PrometheusText text)
    {
        var totals = ports.Totals();
        text.Gauge("usernet_published_ports", "Ports published (each -p, usernet port add, Docker's).").Sample(ports.Publishes.Count);
        text.Counter("usernet_published_connections_total", "TCP connections through published ports.").Sample(totals.Connections);
        text.Gauge("usernet_published_connections_open", "TCP connections through published ports open now.").Sample(totals.ActiveConnections);
        text.Counter("usernet_published_refused_total", "Connections to published ports the guest refused or that could not be opened.").Sample(totals.Refused);
        text.Counter("usernet_published_bytes_total", "Bytes through published ports.")
            .Sample(totals.BytesFromGuest, "direction", FromGuest)
            .Sample(totals.BytesToGuest, "direction", ToGuest);
        text.Counter("usernet_published_datagrams_total", "UDP datagrams through published ports.")
            .Sample(totals.DatagramsFromGuest, "direction", FromGuest)
            .Sample(totals.DatagramsToGuest, "direction", ToGuest);
    }

    /// <summary>"TcpNoFlow" as "tcp_no_flow".</summary>
    internal static string SnakeCase(string name)
    {
        var result = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsAsciiLetterUpper(c))
            {
                if (i > 0)
                {
                    result.Append('_');
                }
                result.Append(char.ToLowerInvariant(c));
            }
            else
            {
                result.Append(c);
            }
        }
        return result.ToString();
    }
}
