"""The servers on the host's loopback that every stack's guest talks to.

All of them listen on 127.0.0.1 only, on ports chosen free at start, so that two runs (or a test
suite running beside the benchmark) never collide. Each stack maps its own guest-side address
for the host (192.168.65.254, pasta's gateway, 10.0.2.2) to 127.0.0.1.
"""

import contextlib
import os
import socket
import subprocess
import threading

from .proc import free_port, wait_bound

# Names that Usernet's DNS server answers itself; the dnsmasq that pasta and slirp4netns guests
# use has the same names as host records, so both sides answer them from their own tables.
BUILTIN_NAMES = {"host.docker.internal": "192.168.65.254", "gateway.docker.internal": "192.168.65.1"}

# Names only the upstream server knows: a caching resolver answers them from its cache after the
# first query of each.
CACHED_NAME_COUNT = 100


def cached_name(i):
    return f"n{i}.bench.test"


def write_nginx_config(root, listen):
    """An nginx that answers "ok" to every request on listen and closes the connection (no
    keep-alive, so that each request is a new connection), with everything it writes under
    root. Returns (config path, root)."""
    os.makedirs(root, exist_ok=True)
    conf = os.path.join(root, "nginx.conf")
    temp_paths = " ".join(f"{kind}_temp_path {root}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    with open(conf, "w") as f:
        f.write(f"""daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    keepalive_timeout 0;
    {temp_paths}
    server {{
        listen {listen} backlog=4096;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
""")
    return conf, root


class HostServers:
    def __init__(self, procs, tmp, agent):
        self.procs = procs
        self.tmp = tmp
        self.agent = agent
        self.sockperf_port = free_port()
        self.nginx_port = free_port()
        self.dns_upstream_port = free_port()
        self.dns_front_port = free_port()
        self.iperf_port = free_port()
        self._stop = threading.Event()
        self._threads = []
        self._sockets = []

    # Long-lived servers -------------------------------------------------------------------

    def start(self):
        self._start_sockperf()
        self._start_nginx()
        self._start_dnsmasq()
        self.udp_echo_port = self._start_udp_echo()
        self.tcp_probe_port = self._start_tcp_accept()

    def stop(self):
        self._stop.set()
        for s in self._sockets:
            try:
                s.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(2)

    def _start_logged(self, argv, log):
        with open(os.path.join(self.tmp, log), "ab") as f:
            return self.procs.start(argv, stdout=f, stderr=subprocess.STDOUT)

    def _start_sockperf(self):
        p = self._start_logged(["sockperf", "sr", "--tcp", "-i", "127.0.0.1", "-p", str(self.sockperf_port)], "sockperf.log")
        wait_bound(self.sockperf_port, "tcp", 10, p)

    def _start_nginx(self):
        conf, root = write_nginx_config(os.path.join(self.tmp, "nginx"), f"127.0.0.1:{self.nginx_port}")
        p = self._start_logged(["nginx", "-c", conf, "-p", root, "-e", f"{root}/error.log"], "nginx.log")
        wait_bound(self.nginx_port, "tcp", 10, p)

    def _start_dnsmasq(self):
        hosts = os.path.join(self.tmp, "bench-test.hosts")
        with open(hosts, "w") as f:
            for i in range(1, CACHED_NAME_COUNT + 1):
                f.write(f"198.18.{i // 250}.{i % 250 + 1} {cached_name(i)}\n")
        common = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                  "--bind-interfaces", "--listen-address=127.0.0.1", "--user=root", "--pid-file=",
                  "--no-dhcp-interface=lo"]
        # The upstream is authoritative for bench.test; a TTL of an hour lets caches hold its answers.
        upstream = self.procs.start(common + [f"--port={self.dns_upstream_port}", f"--addn-hosts={hosts}",
                                              "--local=/bench.test/", "--local-ttl=3600",
                                              f"--log-facility={self.tmp}/dnsmasq-upstream.log"])
        wait_bound(self.dns_upstream_port, "udp", 10, upstream)
        records = [f"--host-record={name},{ip}" for name, ip in BUILTIN_NAMES.items()]
        front = self.procs.start(common + [f"--port={self.dns_front_port}", f"--server=127.0.0.1#{self.dns_upstream_port}",
                                           "--cache-size=10000", "--local-ttl=3600",
                                           f"--log-facility={self.tmp}/dnsmasq-front.log"] + records)
        wait_bound(self.dns_front_port, "udp", 10, front)

    def _start_udp_echo(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.2)
        self._sockets.append(s)

        def serve():
            while not self._stop.is_set():
                try:
                    data, peer = s.recvfrom(2048)
                    s.sendto(data, peer)
                except (socket.timeout, OSError):
                    continue

        self._spawn(serve)
        return s.getsockname()[1]

    def _start_tcp_accept(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        s.settimeout(0.2)
        self._sockets.append(s)

        def serve():
            while not self._stop.is_set():
                try:
                    conn, _ = s.accept()
                    conn.close()
                except (socket.timeout, OSError):
                    continue

        self._spawn(serve)
        return s.getsockname()[1]

    def _spawn(self, target):
        t = threading.Thread(target=target, daemon=True)
        t.start()
        self._threads.append(t)

    # Servers started per run ------------------------------------------------------------------

    @contextlib.contextmanager
    def iperf3(self):
        """A one-shot iperf3 server: a client that hangs or fails cannot leave it busy for the next run."""
        p = self._start_logged(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(self.iperf_port)], "iperf3-server.log")
        try:
            wait_bound(self.iperf_port, "tcp", 10, p)
            yield self.iperf_port
        finally:
            self.procs.stop(p, timeout=2)

    @contextlib.contextmanager
    def holder(self):
        """A server that accepts connections and holds them; yields (port, count of held connections)."""
        port = free_port()
        status = os.path.join(self.tmp, f"holder-{port}.count")
        p = self.procs.start([self.agent.python, self.agent.path, "hold-server", str(port), status],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            wait_bound(port, "tcp", 10, p)

            def held():
                try:
                    with open(status) as f:
                        return int(f.read() or 0)
                except (OSError, ValueError):
                    return 0

            yield port, held
        finally:
            try:
                p.stdin.close()
            except OSError:
                pass
            self.procs.stop(p, timeout=10)
            with contextlib.suppress(OSError):
                os.remove(status)


