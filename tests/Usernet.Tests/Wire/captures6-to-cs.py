#!/usr/bin/env python3
"""Turns the IPv6 pcaps that capture.sh wrote into Ipv6Captures.cs: one named hex constant per frame.

Usage: captures6-to-cs.py ipv6.pcap dhcp6.pcap > Ipv6Captures.cs
       captures6-to-cs.py --list ipv6.pcap dhcp6.pcap    (what each frame is, to check the picks)
IPv6 links carry traffic of their own (multicast listener reports, a neighbour's probes), so
each constant is the first frame after the previous pick that matches its description.
"""
import struct
import sys

from pcap import emit, frames

A = bytes.fromhex("20010002000000050000000000000000")[:15] + b"\x0a"
B = bytes.fromhex("20010002000000050000000000000000")[:15] + b"\x0b"


def describe(f):
    """(next header, source, destination, fields) of an IPv6 frame, fields by protocol."""
    if f[12:14] != b"\x86\xdd":
        return None
    ip = f[14:]
    nh, src, dst = ip[6], ip[8:24], ip[24:40]
    body = ip[40:]
    info = {}
    if nh == 58:
        info = {'type': body[0], 'code': body[1]}
    elif nh == 44:
        info = {'inner': body[0], 'offset': struct.unpack('>H', body[2:4])[0] & ~7, 'more': body[3] & 1}
    elif nh == 6:
        info = {'sport': struct.unpack('>H', body[0:2])[0], 'flags': body[13], 'len': len(body) - (body[12] >> 4) * 4}
    elif nh == 17:
        info = {'sport': struct.unpack('>H', body[0:2])[0], 'dport': struct.unpack('>H', body[2:4])[0], 'msg': body[8] if len(body) > 8 else None}
    return nh, src, dst, info


def pick(stream, names):
    """For each (name, comment, predicate), the first frame after the previous pick that matches."""
    chosen = []
    i = 0
    for name, comment, match in names:
        while True:
            assert i < len(stream), f"no frame for {name}"
            f = stream[i]
            i += 1
            d = describe(f)
            if d and match(*d):
                chosen.append((name, comment, f))
                break
    return chosen


icmp = lambda t: lambda nh, s, d, x: nh == 58 and x['type'] == t
ipv6 = frames(sys.argv[-2])
dhcp6 = frames(sys.argv[-1])
if sys.argv[1] == '--list':
    for label, stream in (('ipv6', ipv6), ('dhcp6', dhcp6)):
        for n, f in enumerate(stream):
            print(label, n, len(f), describe(f))
    sys.exit(0)

picks = pick(ipv6, [
    ("NeighborSolicitation", "`ping -6 -c1 2001:2:0:5::b` from 2001:2:0:5::a (02:18:05:00:00:0a): neighbour solicitation to the solicited-node group, source link-layer address option.",
     lambda nh, s, d, x: nh == 58 and x['type'] == 135 and s == A),
    ("NeighborAdvertisement", "Namespace B's kernel (02:18:05:00:00:0b) answering: solicited and override flags, target link-layer address option.",
     lambda nh, s, d, x: nh == 58 and x['type'] == 136 and s == B),
    ("Ping6Request", "The echo request: 56 data bytes.", lambda nh, s, d, x: nh == 58 and x['type'] == 128 and s == A),
    ("Ping6Reply", "The echo reply of namespace B's kernel.", lambda nh, s, d, x: nh == 58 and x['type'] == 129 and s == B),
    ("FragmentedPing6Request1", "`ping -6 -c1 -s 3000 2001:2:0:5::b` with MTU 1500: first of three fragments (fragment header, offset 0, M).",
     lambda nh, s, d, x: nh == 44 and s == A and x['offset'] == 0),
    ("FragmentedPing6Request2", "Second fragment.", lambda nh, s, d, x: nh == 44 and s == A),
    ("FragmentedPing6Request3", "Last fragment.", lambda nh, s, d, x: nh == 44 and s == A),
    ("FragmentedPing6Reply1", "Namespace B's kernel reassembled the request and echoed it: first reply fragment.",
     lambda nh, s, d, x: nh == 44 and s == B and x['offset'] == 0),
    ("FragmentedPing6Reply2", "Second reply fragment.", lambda nh, s, d, x: nh == 44 and s == B),
    ("FragmentedPing6Reply3", "Last reply fragment.", lambda nh, s, d, x: nh == 44 and s == B),
    ("TcpSyn", "`printf 'hello usernet\\n' | socat -u - TCP6:[2001:2:0:5::b]:5000,bind=[2001:2:0:5::a]:40000`: the SYN, with MSS, SACK permitted, timestamps and window scale.",
     lambda nh, s, d, x: nh == 6 and s == A and x['flags'] == 0x02),
    ("TcpSynAck", "socat listening in namespace B: its kernel's SYN-ACK.", lambda nh, s, d, x: nh == 6 and s == B and x['flags'] == 0x12),
    ("TcpData", "The line, PSH and ACK, with the timestamps option.", lambda nh, s, d, x: nh == 6 and s == A and x['len'] > 0),
    ("TcpFin", "socat's FIN after the line.", lambda nh, s, d, x: nh == 6 and s == A and x['flags'] & 0x01),
])
picks += pick(dhcp6, [
    ("RouterSolicitation", "`rdisc6 -1 veth-a` from namespace A's link-local address fe80::18:5ff:fe00:a: router solicitation with its link-layer address.",
     icmp(133)),
    ("RouterAdvertisement", "`dnsmasq --enable-ra --dhcp-range=2001:2:0:6::100,2001:2:0:6::1ff,64,1h` in namespace B: router advertisement, managed flag, prefix, MTU and link-layer address options.",
     lambda nh, s, d, x: nh == 58 and x['type'] == 134),
    ("Dhcpv6Solicit", "`dhclient -6 -1 veth-a` (ISC 4.4.3): Solicit with client identifier, IA_NA, elapsed time and option request.",
     lambda nh, s, d, x: nh == 17 and x['msg'] == 1),
    ("Dhcpv6Advertise", "dnsmasq: Advertise with server identifier, IA_NA with an address, DNS server.", lambda nh, s, d, x: nh == 17 and x['msg'] == 2),
    ("Dhcpv6Request", "dhclient: Request for the advertised address.", lambda nh, s, d, x: nh == 17 and x['msg'] == 3),
    ("Dhcpv6Reply", "dnsmasq: Reply.", lambda nh, s, d, x: nh == 17 and x['msg'] == 7),
    ("Dhcpv6InformationRequest", "`dhclient -6 -S -1 veth-a`: Information-request (stateless, RFC 8415 §18.2.6).",
     lambda nh, s, d, x: nh == 17 and x['msg'] == 11),
    ("Dhcpv6InformationReply", "dnsmasq: Reply to it.", lambda nh, s, d, x: nh == 17 and x['msg'] == 7),
])

print('''// Generated by captures6-to-cs.py from the pcaps of capture.sh (tcpdump on veth-a in namespace A).
namespace Usernet.Tests.Wire;

/// <summary>
/// IPv6 frames that real programs exchanged over a veth pair between two network namespaces,
/// captured with tcpdump (see capture.sh): 2001:2:0:5::a (02:18:05:00:00:0a) and
/// 2001:2:0:5::b (02:18:05:00:00:0b), then link-local addresses and dnsmasq on 2001:2:0:6::1.
/// Each property returns a fresh array, so tests may modify what they get.
/// </summary>
internal static class Ipv6Captures
{''')
for name, comment, b in picks:
    emit(name, comment, b)
print('''    private static byte[] Hex(string text) =>
        Convert.FromHexString(string.Concat(text.Where(c => !char.IsWhiteSpace(c))));
}''')
