#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target into fuzz/corpus/TARGET/, in the target's input
format (see its class in fuzz/Usernet.Fuzz/Targets). The frames come from real kernels and
programs: the captures of tests/Usernet.Tests/Wire (capture.sh), moved onto Usernet's default
addresses; the DNS messages from dig and dnsmasq (DnsCaptures.cs); the settings files from the
settings tests. Run it again after the captures change: python3 fuzz/seeds.py
"""
import os
import re
import struct

here = os.path.dirname(os.path.abspath(__file__))
wire = os.path.join(here, "..", "tests", "Usernet.Tests", "Wire")
config = os.path.join(here, "..", "tests", "Usernet.Tests", "Config")
out = os.path.join(here, "corpus")


def captures(name):
    """The frames of a generated captures file, by property name."""
    text = open(os.path.join(wire, name)).read()
    frames = {}
    for match in re.finditer(r'public static byte\[\] (\w+) => Hex\((?:"""(.*?)"""|"([0-9a-f]*)")\)', text, re.S):
        frames[match.group(1)] = bytes.fromhex(re.sub(r"\s", "", match.group(2) or match.group(3)))
    return frames


v4 = captures("Captures.cs")
v6 = captures("Ipv6Captures.cs")
dns = captures("DnsCaptures.cs")

# The captures' side B becomes the stack, side A a guest on Usernet's default network.
REWRITES = [
    (bytes.fromhex("02180500000b"), bytes.fromhex("02554e000001")),
    (bytes.fromhex("c6120502"), bytes.fromhex("c0a84101")),  # 198.18.5.2 -> 192.168.65.1
    (bytes.fromhex("c6120501"), bytes.fromhex("c0a84103")),  # 198.18.5.1 -> 192.168.65.3
    # 2001:2:0:5::b -> fdc4:f303:9324::1, 2001:2:0:5::a -> fdc4:f303:9324::3
    (bytes.fromhex("2001000200000005000000000000000b"), bytes.fromhex("fdc4f303932400000000000000000001")),
    (bytes.fromhex("2001000200000005000000000000000a"), bytes.fromhex("fdc4f303932400000000000000000003")),
]


def onto_usernet(frame, remote=False):
    """Side B becomes the gateway; with remote, a host out in the world (its IPv6 address stays)."""
    for old, new in REWRITES:
        if not (remote and old == REWRITES[3][0]):
            frame = frame.replace(old, new)
    return frame


def block16(data):
    return struct.pack(">H", len(data)) + data


def frame_step(frame, guest=0, fix=True, relative_ack=False):
    """FrameTarget: op 0 (a frame), bit 3 the guest, bit 6 'fix the checksums', bit 7 'the TCP
    acknowledgment number is an offset past the stack's SYN' (it is set to 0 here)."""
    frame = onto_usernet(frame, remote=relative_ack or frame[14 + 6:14 + 7] == b"\x06")
    if relative_ack:
        tcp = 14 + (40 if frame[12:14] == b"\x86\xdd" else (frame[14] & 0x0F) * 4)
        frame = frame[:tcp + 8] + bytes(4) + frame[tcp + 12:]
    return bytes([(guest << 3) | (0x40 if fix else 0) | (0x80 if relative_ack else 0)]) + block16(frame)


def tcp4(flags, seq, payload=b""):
    """A guest's TCP segment over IPv4, 192.168.65.3:40000 to 198.18.0.1:80 (checksums left to the target)."""
    tcp = struct.pack(">HHIIBBHHH", 40000, 80, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, bytes([192, 168, 65, 3]), bytes([198, 18, 0, 1]))
    return bytes.fromhex("02554e000001" "02180500000a" "0800") + ip + tcp


def advance_step(milliseconds):
    return bytes([3]) + struct.pack(">H", milliseconds)


def tcp_step(socket, kind, data=b""):
    """FrameTarget: op 6, a host TCP socket's event (kind 0 connected, 2 data, 3 peer close)."""
    step = bytes([6, socket, kind])
    return step + (block16(data) if kind & 7 == 2 else b"")


def write(target, name, data):
    directory = os.path.join(out, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def udp_payload(frame, ip_header):
    return frame[14 + ip_header + 8:]


def question_end(message):
    at = 12
    while message[at] != 0:
        at += 1 + message[at]
    return at + 1 + 4


# frames: single frames, and the exchanges they belong to, with the host's side played.
for name, frame in list(v4.items()) + list(v6.items()):
    write("frames", name, frame_step(frame))
write("frames", "arp-then-ping", frame_step(v4["ArpRequest"]) + frame_step(v4["PingRequest"]))
write("frames", "fragmented-ping", b"".join(frame_step(v4[f"FragmentedPingRequest{i}"]) for i in (1, 2, 3)))
write("frames", "fragmented-ping6", b"".join(frame_step(v6[f"FragmentedPing6Request{i}"]) for i in (1, 2, 3)))
write("frames", "dhcp", frame_step(v4["DhcpDiscover"]) + advance_step(500) + frame_step(v4["DhcpRequest"]))
write("frames", "dhcp6", frame_step(v6["Dhcpv6Solicit"]) + frame_step(v6["Dhcpv6Request"]) + frame_step(v6["Dhcpv6InformationRequest"]))
write("frames", "tcp6-exchange",
      frame_step(v6["NeighborSolicitation"]) + frame_step(v6["TcpSyn"]) + tcp_step(0, 0) + frame_step(v6["TcpData"], relative_ack=True)
      + tcp_step(0, 2, b"hello guest\n") + frame_step(v6["TcpFin"], relative_ack=True) + tcp_step(0, 3) + advance_step(3000))
request = b"GET / HTTP/1.0\r\n\r\n"
write("frames", "tcp4-exchange",
      frame_step(tcp4(0x02, 1000)) + tcp_step(0, 0) + frame_step(tcp4(0x10, 1001), relative_ack=True)
      + frame_step(tcp4(0x18, 1001, request), relative_ack=True) + tcp_step(0, 2, b"HTTP/1.0 200 OK\r\n\r\nhello")
      + tcp_step(0, 3) + frame_step(tcp4(0x11, 1001 + len(request)), relative_ack=True) + advance_step(1000))
write("frames", "udp-and-reply", frame_step(v4["UdpToOpenPort"]) + bytes([4, 0, 0, 0, 6]) + b"answer" + advance_step(61000))
write("frames", "router-solicitation", frame_step(v6["RouterSolicitation"]) + advance_step(60000))

# ndp: the ICMPv6 body after the type byte. choice: low 6 bits the type (0 NS, 1 NA, 2 RS), bit 6 the guest.
for name, choice, addresses in (("NeighborSolicitation", 0, 1 | 6 << 4), ("NeighborAdvertisement", 1, 2 | 3 << 4), ("RouterSolicitation", 2, 1 | 9 << 4)):
    frame = v6[name]
    write("ndp", name, bytes([choice, addresses]) + block16(frame[14 + 40 + 1:]))

# dns: UDP queries (op 0), a TCP one (op 1), and upstream answers (op 2) from dnsmasq.
for name, query in dns.items():
    if name.startswith("Dig"):
        write("dns", name, bytes([0]) + block16(query))
for query, answer in (("DigMx", "DnsmasqMx"), ("DigNx", "DnsmasqNx"), ("DigBigTxt", "DnsmasqBigTxtTruncated")):
    response = dns[answer]
    sections = response[2:12] + response[question_end(response):]
    write("dns", f"{query}-upstream", bytes([0]) + block16(dns[query]) + bytes([2]) + block16(sections))
write("dns", "tcp-and-expiry", bytes([1]) + block16(dns["DigA"]) + bytes([0]) + block16(dns["DigMx"]) + bytes([3]) + struct.pack(">H", 5))

# dhcp and dhcp6: the captured clients' messages.
write("dhcp", "discover-request", bytes([0, 0]) + block16(udp_payload(v4["DhcpDiscover"], 20)) + bytes([0, 1]) + block16(udp_payload(v4["DhcpRequest"], 20)))
for name in ("Dhcpv6Solicit", "Dhcpv6Request", "Dhcpv6InformationRequest"):
    write("dhcp6", name, block16(udp_payload(v6[name], 40)))
write("dhcp6", "solicit-request", block16(udp_payload(v6["Dhcpv6Solicit"], 40)) + block16(udp_payload(v6["Dhcpv6Request"], 40)))

# http: mode byte (bit 0 responses, bit 1 decode chunked, bit 2 peek), then the bytes.
http = {
    "get": b"GET http://example.test/index.html HTTP/1.1\r\nHost: example.test\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nProxy-Connection: Keep-Alive\r\n\r\n",
    "connect": b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\nUser-Agent: curl/7.88.1\r\n\r\n",
    "post-chunked": b"POST http://example.test/upload HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n",
    "post-length-keepalive": b"POST http://[2001:2::1]:8080/a HTTP/1.1\r\nHost: [2001:2::1]:8080\r\nContent-Length: 3\r\n\r\nabcGET http://example.test/ HTTP/1.0\r\n\r\n",
    "websocket": b"GET ws://example.test/chat HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
}
for name, data in http.items():
    write("http", name, bytes([4]) + data)
write("http", "response-chunked", bytes([3]) + b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n")
write("http", "response-100", bytes([1]) + b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")

# socks5: mode (bit 0 with a password, bit 1 a name), then the proxy's replies.
write("socks5", "no-auth-ipv4", bytes([0]) + bytes.fromhex("0500" "05000001c612000a01bb"))
write("socks5", "password-name", bytes([3]) + bytes.fromhex("0502" "0100" "050000030e") + b"origin.example" + bytes.fromhex("01bb"))
write("socks5", "refused-ipv6", bytes([0]) + bytes.fromhex("0500" "05050004") + bytes(16) + bytes.fromhex("0000"))

# pac: mode 0 (the fixed script: host, then FindProxyForURL's result), mode 1 (a script of its own).
def block8(data):
    return bytes([len(data)]) + data


write("pac", "result-list", bytes([0]) + block8(b"www.example") + b"PROXY proxy.example:3128; SOCKS5 [2001:2::9]:1080; DIRECT")
write("pac", "result-reject", bytes([0]) + block8(b"10.1.2.3") + b"PROXY reject.docker.internal:ANY")
script = b"""function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || dnsDomainIs(host, ".corp.example")) return "DIRECT";
  if (isInNet(dnsResolve(host), "198.18.0.0", "255.254.0.0")) return "PROXY proxy.example:8080";
  if (shExpMatch(url, "https://*")) return "HTTPS secure.example:443; DIRECT";
  return "SOCKS5 socks.example:1080";
}"""
write("pac", "script", bytes([1]) + block8(b"https://www.example/") + block8(b"www.example") + script)
write("pac", "script-loop", bytes([1]) + block8(b"http://a/") + block8(b"a") + b"function FindProxyForURL(u, h) { for (var i = 0; i < 1000; i++) {} return 'DIRECT'; }")

# settings: every settings.json and admin-settings.json the settings tests write, and a full one.
texts = []
for file in sorted(os.listdir(config)):
    source = open(os.path.join(config, file)).read()
    texts += re.findall(r'\.(?:User|Admin)\(\$*"""(.*?)"""\)', source, re.S)
for i, text in enumerate(dict.fromkeys(texts)):
    write("settings", f"test-{i:02}", text.strip().encode())
write("settings", "full", b"""{
  "vpnkitCIDR": "10.99.0.0/16",
  "defaultNetworkingMode": "dual-stack",
  "dnsInhibition": "auto",
  "network": { "mtu": 9000, "hostLoopback": true },
  "tcp": { "maxConnections": 5000 },
  "dns": { "servers": ["198.18.0.53"], "routes": { "corp.example": ["198.18.0.54:5353"] }, "records": { "web.vm.docker.internal": ["10.99.0.10"] } },
  "ports": { "publish": ["8080:80", "127.0.0.1:5353:53/udp"] },
  "proxy": { "mode": "manual", "http": "http://alice:secret@proxy.corp.example:3128", "exclude": ["localhost", ".corp.internal", "10.0.0.0/8"] },
  "containersProxy": { "mode": "manual", "transparentPorts": "80,443" }
}\x00{ "network": { "mtu": { "locked": true, "value": 1400 } } }\x00network.hostLoopback=false
dns.cacheSize=10""")

# control: one request each, after the mode byte (bit 0: another user).
def request(method, target, body=b""):
    head = f"{method} {target} HTTP/1.1\r\nHost: usernet\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


requests = {
    "get-records": request("GET", "/dns/records"),
    "add-record": request("POST", "/dns/records", b'{"name": "web.vm.docker.internal", "address": "192.168.65.10"}'),
    "delete-record": request("DELETE", "/dns/records?name=web.vm.docker.internal&address=192.168.65.10"),
    "expose": request("POST", "/services/forwarder/expose", b'{"local": ":8080", "remote": "192.168.65.3:80", "protocol": "tcp"}'),
    "unexpose": request("POST", "/services/forwarder/unexpose", b'{"local": "[::1]:8080", "protocol": "udp"}'),
}
for name, data in requests.items():
    write("control", name, bytes([0]) + data)
