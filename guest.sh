#!/bin/sh
cd /tmp/exp/bench
for i in 1 2; do
  echo "== builtin"; dnsperf -s 192.168.65.1 -d builtin.txt -l 5 2>&1 | grep -E "Queries per second|Queries lost"
  dig +short bench1.test >/dev/null; for n in $(seq 1 100); do dig +short bench$n.test > /dev/null; done
  echo "== cached"; dnsperf -s 192.168.65.1 -d cached.txt -l 5 2>&1 | grep -E "Queries per second|Queries lost"
done
