using System.Text.Json;
using Usernet.Config;
using Usernet.Link;
using Usernet.Platform;
using Usernet.Services.Dhcp;
using Usernet.Services.Dhcp6;
using Usernet.Services.Dns;
using Usernet.Services.Forwarding;
using Usernet.Services.Proxy;
using Usernet.Services.Socks;
using Usernet.Stack;
using Usernet.Stack.Icmp;
using Usernet.Stack.Tcp;
using Usernet.Stack.Udp;

namespace Usernet.Control;

/// <summary>
/// The document of <c>GET /stats</c> and <c>usernet stats</c>: one section per part of an
/// instance, each written by the part itself, so that a counter is reported where it is kept.
/// Written on the loop thread, which owns every number in it but the proxy's.
/// </summary>
internal sealed partial class InstanceStats(
    string name, NetworkingMode mode, EventLoop loop, VirtualSwitch network, NetworkStack stack,
    DhcpServer dhcp, Dhcpv6Server dhcp6, TcpTransport tcp, UdpNat udp, IcmpEchoNat ping, string pingMode,
    DnsServer dns, HttpProxyServer proxy, PortPublisher ports, SocksServer? socks)
{
    public string Write() => JsonText.Build(w =>
    {
        w.WriteString("instance", name);
        w.WriteString("mode", mode.ToString());
        Section(w, "stack", stack.WriteJson);
        Section(w, "switch", network.WriteJson);
        w.WriteStartArray("links");
        foreach (var link in network.Links)
        {
            w.WriteStartObject();
            link.WriteJson(w);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Section(w, "dhcp", dhcp.WriteJson);
        Section(w, "dhcp6", dhcp6.WriteJson);
        Section(w, "tcp", tcp.WriteJson);
        Section(w, "udp", udp.WriteJson);
        Section(w, "ping", section =>
        {
            section.WriteString("mode", pingMode);
            ping.WriteJson(section);
        });
        Section(w, "egress", stack.Egress.WriteJson);
        Section(w, "dns", dns.WriteJson);
        Section(w, "proxy", proxy.WriteJson);
        Section(w, "ports", ports.WriteJson);
        if (socks is not null)
        {
            Section(w, "socks", socks.WriteJson);
        }
        if (network.Capture is { } capture)
        {
            Section(w, "capture", capture.WriteJson);
        }
        w.WriteNumber("loopFaults", loop.Faults.Total);
        Section(w, "faults", loop.Faults.WriteJson);
        w.WriteNumber("timers", loop.Timers.Count);
    });

    private static void Section(Utf8JsonWriter writer, string name, Action<Utf8JsonWriter> write)
    {
        writer.WriteStartObject(name);
        write(writer);
        writer.WriteEndObject();
    }
}
