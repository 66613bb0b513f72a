using System.Text;

namespace Usernet.Services.Docker;

/// <summary>
/// The guest's share of reaching containers from the host: what the guest's shell does before
/// it becomes dockerd. Usernet sends a container's packets to the guest (its routes for Docker's
/// networks); the guest must forward them from its Usernet link to the bridges, and Docker's
/// FORWARD chain, whose policy is DROP, must let them pass.
/// <list type="bullet">
/// <item>IPv4 forwarding on, and the FORWARD policy DROP, set here rather than left to dockerd:
/// dockerd sets DROP only when it turns forwarding on itself, and a new network namespace
/// inherits the host's <c>ip_forward</c>, so on a host that forwards the policy would stay ACCEPT.</item>
/// <item><c>-A FORWARD -i LINK -j ACCEPT</c>, appended before dockerd starts. dockerd inserts its
/// own rules above it (the jumps to DOCKER-USER and DOCKER-ISOLATION-STAGE-1 at the top), so a
/// packet from the link meets Docker's isolation first: an internal network's rules drop it, as
/// they drop any packet from outside that network. Isolation between Docker's networks is about
/// packets from one bridge to another, and this rule matches none (they do not come in on the
/// link). Replies need nothing more: the container's answer is forwarded by Docker's own
/// <c>-i BRIDGE ! -o BRIDGE -j ACCEPT</c>, and it belongs to the connection the request
/// opened, so Docker's MASQUERADE (a NAT rule, consulted for a connection's first packet only)
/// leaves it alone.</item>
/// <item>IPv6: forwarding on, with <c>accept_ra=2</c> on the link first, so that the guest still
/// takes the gateway's router advertisements while it forwards. The same ACCEPT rule in
/// ip6tables; the policy DROP only where dockerd manages ip6tables (daemon.json
/// <c>"ip6tables": true</c>): without it dockerd 20.10 filters no IPv6 forwarding at all.</item>
/// </list>
/// daemon.json's <c>"ip-forward": false</c> leaves forwarding alone, and <c>"iptables": false</c>
/// (<c>"ip6tables"</c> for IPv6) the rules: the administrator then does both.
/// </summary>
internal static class GuestForwarding
{
    /// <summary>Shell commands (each ending in a newline) for a guest whose Usernet link is <paramref name="link"/>; failures are said in dockerd's log.</summary>
    public static string Script(string link, bool ipv6, DockerDataRoot dataRoot)
    {
        if (dataRoot.Flag("ip-forward") == false)
        {
            return "";
        }
        var script = new StringBuilder();
        script.Append("echo 1 >/proc/sys/net/ipv4/ip_forward\n");
        if (dataRoot.Flag("iptables") != false)
        {
            script.Append(Rules("iptables", link, dropPolicy: true));
        }
        if (ipv6)
        {
            script.Append($"echo 2 >/proc/sys/net/ipv6/conf/{link}/accept_ra\n");
            script.Append("echo 1 >/proc/sys/net/ipv6/conf/all/forwarding\n");
            script.Append(Rules("ip6tables", link, dropPolicy: dataRoot.Flag("ip6tables") == true));
        }
        return script.ToString();
    }

    private static string Rules(string program, string link, bool dropPolicy)
    {
        string policy = dropPolicy ? $"{program} -w -P FORWARD DROP && " : "";
        return $"{policy}{program} -w -A FORWARD -i {link} -j ACCEPT || echo 'usernet: {program} failed: the host cannot reach containers through the guest'\n";
    }
}
