#!/usr/bin/env bash
# Regenerates the captured frames that the Wire tests use as constants: writes OUTDIR/ipv4.pcap,
# OUTDIR/dhcp.pcap, OUTDIR/ipv6.pcap, OUTDIR/dhcp6.pcap, and from them OUTDIR/Captures.cs and
# OUTDIR/Ipv6Captures.cs (copy those two here).
# Run as root (needs iproute2, ethtool, tcpdump, iputils-ping, socat, dnsmasq, busybox, ndisc6,
# isc-dhcp-client): bash tests/Usernet.Tests/Wire/capture.sh OUTDIR
#
# Real programs (ping, socat, dnsmasq, busybox udhcpc) talk over a veth pair between two network
# namespaces created here, with addresses from 198.18.0.0/15 and 2001:2::/48 only, and tcpdump
# records side A.
# Nothing leaves the namespaces. Everything created is removed on exit, also on failure.
set -euo pipefail

out=${1:?usage: capture.sh OUTDIR}
mkdir -p "$out"
tag=wc$$
nsa=$tag-a
nsb=$tag-b
pids=()

cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ -s "$out/dhclient6.pid" ]; then
        kill "$(cat "$out/dhclient6.pid")" 2>/dev/null || true
    fi
    rm -f "$out/dhclient6.pid" "$out/dhclient6.leases" "$out/dnsmasq6.leases"
    ip netns del "$nsa" 2>/dev/null || true
    ip netns del "$nsb" 2>/dev/null || true
}
trap cleanup EXIT

# Two namespaces joined by a veth pair; fixed locally administered MACs keep the bytes readable.
# The third argument, 6, leaves IPv6 on (without DAD or the kernel's own router solicitations,
# so that the capture holds what the programs sent); otherwise IPv6 is off.
setup() {
    local a_addr=$1 b_addr=$2 family=${3:-4}
    ip netns add "$nsa"
    ip netns add "$nsb"
    ip link add veth-a netns "$nsa" type veth peer name veth-b netns "$nsb"
    for ns in "$nsa" "$nsb"; do
        if [ "$family" = 6 ]; then
            ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
                net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
        else
            # No IPv6: router solicitations and MLD reports would only add noise to the capture.
            ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        fi
        ip -n "$ns" link set lo up
    done
    ip -n "$nsa" link set veth-a address 02:18:05:00:00:0a mtu 1500
    ip -n "$nsb" link set veth-b address 02:18:05:00:00:0b mtu 1500
    local flags=""
    [ "$family" = 6 ] && flags=nodad
    [ -n "$a_addr" ] && ip -n "$nsa" addr add "$a_addr" dev veth-a $flags
    [ -n "$b_addr" ] && ip -n "$nsb" addr add "$b_addr" dev veth-b $flags
    # veth defers transport checksums to a NIC that does not exist, so tcpdump would record only
    # the pseudo-header part; with offload off the kernel fills them as a real NIC would send them.
    ip netns exec "$nsa" ethtool -K veth-a tx off >/dev/null
    ip netns exec "$nsb" ethtool -K veth-b tx off >/dev/null
    ip -n "$nsa" link set veth-a up
    ip -n "$nsb" link set veth-b up
    if [ "$family" = 6 ]; then
        sleep 1
    fi
}

teardown() {
    cleanup
    pids=()
}

start_capture() {
    ip netns exec "$nsa" tcpdump -i veth-a -s 0 --immediate-mode -U -w "$out/$1.pcap" 2>/dev/null &
    capture_pid=$!
    pids+=("$capture_pid")
    sleep 1
}

stop_capture() {
    sleep 1
    kill -INT "$capture_pid"
    wait "$capture_pid" || true
}

# 1. ARP, ping, UDP to an open and to a closed port, fragmented ping, ping with record route
#    (an IPv4 header with options), and a fragmented ping with record route.
setup 198.18.5.1/24 198.18.5.2/24
ip netns exec "$nsb" socat -u UDP4-RECV:4000,bind=198.18.5.2 OPEN:/dev/null &
pids+=($!)
sleep 0.5
start_capture ipv4
ip netns exec "$nsa" ping -c1 -W1 198.18.5.2 >/dev/null
printf 'hello usernet\n' | ip netns exec "$nsa" socat -u - UDP4-SENDTO:198.18.5.2:4000,bind=198.18.5.1:40000
printf 'closed\n' | ip netns exec "$nsa" socat -u - UDP4-SENDTO:198.18.5.2:4001,bind=198.18.5.1:40001
sleep 0.2
ip netns exec "$nsa" ping -c1 -W1 -s 3000 198.18.5.2 >/dev/null
ip netns exec "$nsa" ping -c1 -W1 -R 198.18.5.2 >/dev/null
ip netns exec "$nsa" ping -c1 -W1 -R -s 2000 198.18.5.2 >/dev/null
stop_capture
teardown

# 2. DHCP: dnsmasq serves on side B, busybox udhcpc asks from an unaddressed side A.
setup "" 198.18.6.1/24
ip netns exec "$nsb" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --no-resolv --no-hosts \
    --bind-interfaces --interface=veth-b --except-interface=lo --no-ping \
    --dhcp-range=198.18.6.100,198.18.6.150,255.255.255.0,1h \
    --dhcp-leasefile="$out/dnsmasq.leases" --pid-file= 2>/dev/null &
pids+=($!)
sleep 1
start_capture dhcp
ip netns exec "$nsa" busybox udhcpc -i veth-a -f -q -n -t 3 -T 1 -s /bin/true \
    -x hostname:usernet-test >/dev/null 2>&1
stop_capture
teardown
rm -f "$out/dnsmasq.leases"

# 3. IPv6: neighbour discovery and ping, a fragmented ping, and a TCP connection carrying one line.
setup 2001:2:0:5::a/64 2001:2:0:5::b/64 6
ip netns exec "$nsb" socat -u TCP6-LISTEN:5000,bind=[2001:2:0:5::b] OPEN:/dev/null &
pids+=($!)
sleep 0.5
start_capture ipv6
ip netns exec "$nsa" ping -6 -c1 -W1 2001:2:0:5::b >/dev/null
ip netns exec "$nsa" ping -6 -c1 -W1 -s 3000 2001:2:0:5::b >/dev/null
printf 'hello usernet\n' | ip netns exec "$nsa" socat -u - TCP6:[2001:2:0:5::b]:5000,bind=[2001:2:0:5::a]:40000
stop_capture
teardown

# 4. dnsmasq on side B advertises the prefix and serves DHCPv6; side A has only its link-local
#    address. rdisc6 solicits a router advertisement, dhclient gets an address (Solicit,
#    Advertise, Request, Reply), then asks for configuration only (Information-request, Reply).
setup "" "" 6
ip -n "$nsb" addr add 2001:2:0:6::1/64 dev veth-b nodad
ip netns exec "$nsb" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --no-resolv --no-hosts \
    --bind-interfaces --interface=veth-b --except-interface=lo --enable-ra \
    --dhcp-range=2001:2:0:6::100,2001:2:0:6::1ff,64,1h --dhcp-option=option6:dns-server,[2001:2:0:6::1] \
    --dhcp-leasefile="$out/dnsmasq6.leases" --pid-file= 2>/dev/null &
pids+=($!)
sleep 2
start_capture dhcp6
ip netns exec "$nsa" rdisc6 -1 -w 2000 veth-a >/dev/null
ip netns exec "$nsa" dhclient -6 -1 -lf "$out/dhclient6.leases" -pf "$out/dhclient6.pid" -sf /bin/true veth-a
kill "$(cat "$out/dhclient6.pid")"
rm -f "$out/dhclient6.pid"
ip netns exec "$nsa" dhclient -6 -S -1 -lf "$out/dhclient6.leases" -pf "$out/dhclient6.pid" -sf /bin/true veth-a
kill "$(cat "$out/dhclient6.pid")" 2>/dev/null || true
rm -f "$out/dhclient6.pid"
stop_capture
teardown
python3 "$(dirname "$0")/captures-to-cs.py" "$out/ipv4.pcap" "$out/dhcp.pcap" > "$out/Captures.cs"
python3 "$(dirname "$0")/captures6-to-cs.py" "$out/ipv6.pcap" "$out/dhcp6.pcap" > "$out/Ipv6Captures.cs"
