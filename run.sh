cd /tmp/exp/bench
echo "== dnsmasq (host loopback, hosts file)"; dnsperf -s 127.53.251.1 -d cached.txt -l 5 2>&1 | grep -E "Queries per second|Queries lost"
unshare --mount --propagation private sh -c 'mount --bind /tmp/exp/bench/hosts /etc/hosts && mount --bind /tmp/exp/bench/resolv.conf /etc/resolv.conf && exec /work/wt-dns/.build/bin/usernet run --set dns.resolvConf=/tmp/exp/bench/resolv.conf -- /tmp/exp/bench/guest.sh'
echo "== dnsmasq (host loopback, hosts file)"; dnsperf -s 127.53.251.1 -d cached.txt -l 5 2>&1 | grep -E "Queries per second|Queries lost"
