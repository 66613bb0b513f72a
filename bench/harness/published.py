"""Published ports: the path of `docker run -p 8080:80 …` and then `curl localhost:8080`.

A client on the host connects to 127.0.0.1:PORT, and the stack's port forwarding carries the
connection to a server in the guest: Usernet's -p, pasta's -t, slirp4netns' add_hostfwd (see
stacks.py, which publishes the ports when a stack starts). In the host-loopback column client
and server are both on the host: the kernel's own loopback, the limit.

The guest's servers start for each run, inside the guest, on PUBLISHED_GUEST_PORTS.
"""

import contextlib
import os
import subprocess

from .proc import wait_bound
from .servers import write_nginx_config
from .workloads import (TCP_AHEAD, TCP_LATENCY_AHEAD, Metric, Workload, connections_per_second, iperf3_result,
                        run_in_guest, sockperf_latency)


class OnHost:
    """Runs a command as it is, on the host: where the published-port clients run."""

    @staticmethod
    def guest(argv):
        return list(argv)


@contextlib.contextmanager
def guest_server(ctx, stack, name, argv):
    """Starts argv in the guest of stack and waits until it listens on the guest port of name."""
    with open(os.path.join(ctx.tmp, f"{stack.key}-{name}-guest.log"), "ab") as log:
        p = ctx.procs.start(stack.guest(argv), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_bound(stack.guest_port(name), "tcp", 10, p, netns_pid=stack.guest_pid)
        yield
    finally:
        ctx.procs.stop(p, timeout=2)


class PublishedThroughput(Workload):
    """iperf3 on the host to 127.0.0.1:PORT, the server in the guest. reverse (-R) makes the
    guest's server the sender: a download from a container, as curl makes."""

    def __init__(self, reverse, streams):
        self.reverse, self.streams = reverse, streams
        direction, arrow = ("g2h", "guest→host (download)") if reverse else ("h2g", "host→guest (upload)")
        self.key = f"port_{direction}_{streams}"
        plural = "s" if streams > 1 else ""
        self.metrics = [Metric(self.key, f"Published port, TCP {arrow}, {streams} stream{plural}", "Gbit/s", "higher",
                               TCP_AHEAD, "iperf3 on the host to 127.0.0.1:PORT, forwarded to the guest")]

    def run_once(self, ctx, stack):
        port = stack.guest_port("iperf3")
        with guest_server(ctx, stack, "iperf3", ["iperf3", "-s", "-1", "-B", "0.0.0.0", "-p", str(port)]):
            argv = ["iperf3", "-c", "127.0.0.1", "-p", str(stack.published["iperf3"]), "-t", str(ctx.duration),
                    "-P", str(self.streams), "-J"]
            if self.reverse:
                argv.append("-R")
            status, out, err = ctx.procs.run(argv, ctx.duration + 30)
        return {self.key: iperf3_result(status, out, err)["sum_received"]["bits_per_second"] / 1e9}


class PublishedLatency(Workload):
    """sockperf ping-pong from the host to 127.0.0.1:PORT, the server in the guest."""
    key = "port_latency"
    metrics = [
        Metric("port_latency_p50", "Published port, TCP latency, median", "µs", "lower", TCP_LATENCY_AHEAD,
               "half the round trip, 64-byte messages"),
        Metric("port_latency_p99", "Published port, TCP latency, 99th percentile", "µs", "lower"),
    ]

    def run_once(self, ctx, stack):
        port = stack.guest_port("sockperf")
        with guest_server(ctx, stack, "sockperf", ["sockperf", "sr", "--tcp", "-i", "0.0.0.0", "-p", str(port)]):
            p50, p99 = sockperf_latency(ctx, OnHost, "127.0.0.1", stack.published["sockperf"])
        return {"port_latency_p50": p50, "port_latency_p99": p99}


class PublishedConnectRate(Workload):
    """ab on the host against nginx in the guest through 127.0.0.1:PORT, a connection per request."""
    key = "port_connect_rate"
    concurrency = 16
    metrics = [Metric("port_connections_per_s", "Published port, new TCP connections per second (ab → nginx)", "conn/s",
                      "higher", TCP_AHEAD, "one HTTP request per connection, 16 concurrent")]

    def run_once(self, ctx, stack):
        port = stack.guest_port("nginx")
        conf, root = write_nginx_config(os.path.join(ctx.tmp, f"nginx-guest-{stack.key}"), f"0.0.0.0:{port}")
        with guest_server(ctx, stack, "nginx", ["nginx", "-c", conf, "-p", root, "-e", f"{root}/error.log"]):
            url = f"http://127.0.0.1:{stack.published['nginx']}/"
            return {"port_connections_per_s": connections_per_second(ctx, OnHost, url, self.concurrency)}
