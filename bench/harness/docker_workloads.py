"""The Docker workloads: a client on 127.0.0.1 reaches a container through the port it published.

The same server programs as bench/run (iperf3, nginx with one worker and no keep-alive) run in
a container of the benchmark's own image (docker_image.py); each engine gets its container the
first time a workload probes it, and keeps it until the engine stops. Usernet's figures are
compared with rootful Docker's default, docker-proxy.
"""

import time

from .proc import NotAvailable, RunFailed, free_port
from .workloads import Metric, Target, connections_per_second, iperf3_result

AT_LEAST_DOCKER_PROXY = Target("ratio", ">=", 1.0)


def start_container(ctx, engine, name, publish, argv):
    """Runs the container (once per engine) and returns the host port it published."""
    ports = getattr(engine, "bench_ports", None)
    if ports is None:
        ports = engine.bench_ports = {}
    if name in ports:
        return ports[name]
    status, out, err = ctx.procs.run(engine.docker(["image", "inspect", "--format", "{{.Id}}", ctx.docker_image]), 30)
    if status != 0:
        status, out, err = ctx.procs.run(engine.docker(["import", ctx.docker_rootfs, ctx.docker_image]), 120)
        if status != 0:
            raise NotAvailable(f"docker import failed: {(err or out).strip()[-200:]}")
    port = free_port()
    status, out, err = ctx.procs.run(engine.docker(["run", "-d", "--name", name, "-p", f"{port}:{publish}", ctx.docker_image] + argv), 60)
    if status != 0:
        raise NotAvailable(f"docker run failed: {(err or out).strip()[-300:]}")
    ports[name] = port
    return port


class DockerThroughput:
    """iperf3 on the host (or in the engine's namespace) against iperf3 -s in a container, one stream."""
    fresh_stack = False
    max_runs = None

    def __init__(self, reverse):
        self.reverse = reverse
        arrow = "container→host" if reverse else "host→container"
        self.key = f"docker_{'c2h' if reverse else 'h2c'}"
        self.metrics = [Metric(self.key, f"TCP {arrow} through a published port, 1 stream", "Gbit/s", "higher",
                               AT_LEAST_DOCKER_PROXY)]

    def probe(self, ctx, engine):
        port = start_container(ctx, engine, "bench-iperf3", 5201, ["/usr/bin/iperf3", "-s"])
        deadline = time.monotonic() + 30
        while True:
            status, out, err = ctx.procs.run(engine.guest(["iperf3", "-c", engine.host_addr, "-p", str(port), "-t", "1", "-J"]), 40)
            try:
                iperf3_result(status, out, err)
                return
            except RunFailed as e:
                if time.monotonic() > deadline:
                    raise NotAvailable(f"the container's iperf3 does not answer through port {port}: {e}")
                time.sleep(0.5)

    def run_once(self, ctx, engine):
        port = engine.bench_ports["bench-iperf3"]
        argv = ["iperf3", "-c", engine.host_addr, "-p", str(port), "-t", str(ctx.duration), "-J"]
        if self.reverse:
            argv.append("-R")
        status, out, err = ctx.procs.run(engine.guest(argv), ctx.duration + 30)
        return {self.key: iperf3_result(status, out, err)["sum_received"]["bits_per_second"] / 1e9}


class DockerConnectRate:
    """ab with a new connection per request against nginx in a container."""
    key = "docker_connect_rate"
    fresh_stack = False
    max_runs = None
    concurrency = 16
    metrics = [Metric("docker_connections_per_s", "New TCP connections per second through a published port (ab → nginx)",
                      "conn/s", "higher", AT_LEAST_DOCKER_PROXY, "one HTTP request per connection, 16 concurrent")]

    def probe(self, ctx, engine):
        from .docker_image import NGINX_ARGV
        port = start_container(ctx, engine, "bench-nginx", 80, NGINX_ARGV)
        deadline = time.monotonic() + 30
        while True:
            status, out, _ = ctx.procs.run(engine.guest(["curl", "-s", "--max-time", "5", f"http://{engine.host_addr}:{port}/"]), 20)
            if status == 0 and out == "ok\n":
                return
            if time.monotonic() > deadline:
                raise NotAvailable(f"the container's nginx does not answer through port {port}")
            time.sleep(0.5)

    def run_once(self, ctx, engine):
        url = f"http://{engine.host_addr}:{engine.bench_ports['bench-nginx']}/"
        return {"docker_connections_per_s": connections_per_second(ctx, engine, url, self.concurrency)}


def all_docker_workloads():
    return [DockerThroughput(reverse=False), DockerThroughput(reverse=True), DockerConnectRate()]
