"""A usernet run guest for bench/counts' scripts: a server on the host's loopback (the echo
server or nginx), Usernet with its DNS pointed nowhere (nothing leaves loopback), and a guest
process (sleep) to run clients in with nsenter. Everything it starts ends, by PID, on exit."""
import os, random, signal, subprocess, sys, time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(here))
from harness.proc import children  # noqa: E402
from harness.servers import write_nginx_config  # noqa: E402

GATEWAY_HOST = "192.168.65.254"   # the host's loopback, as the guest sees it


def descendants(pid):
    seen, stack = [], [pid]
    while stack:
        p = stack.pop()
        seen.append(p)
        stack += children(p)
    return seen


def find_guest(pid, seconds=10):
    """The guest's sleep among the descendants of a stack's process, once the stack has made it."""
    for _ in range(int(seconds / 0.05)):
        time.sleep(0.05)
        for p in descendants(pid):
            try:
                if open(f"/proc/{p}/cmdline").read().startswith("sleep"):
                    return p
            except OSError:
                pass
    raise AssertionError("no guest")


class Guest:
    """with Guest(usernet_bin, server, run_options) as g: g.port, g.usernet (Usernet's PID),
    g.guest (a PID in the guest's namespaces), g.server (the server's PIDs), g.in_guest(argv).
    server is "echo", "sockperf", "nginx", or None for no server on the host."""

    def __init__(self, usernet_bin, server, run_options=()):
        self.bin, self.kind, self.options = usernet_bin, server, list(run_options)
        self.tag = f"counts-{random.randrange(1 << 30):x}"
        self.tmp = f"/tmp/{self.tag}"
        self.procs = []

    def start(self, cmd):
        p = subprocess.Popen(cmd, stdout=open(f"{self.tmp}/{len(self.procs)}.out", "w"), stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def __enter__(self):
        os.makedirs(self.tmp)
        try:
            self.port = random.randrange(20000, 30000)
            server = None
            if self.kind == "echo":
                server = self.start(["python3", os.path.join(here, "echo_server.py"), str(self.port)])
            elif self.kind == "sockperf":
                server = self.start(["sockperf", "sr", "--tcp", "-i", "127.0.0.1", "-p", str(self.port)])
            elif self.kind == "nginx":
                conf, root = write_nginx_config(f"{self.tmp}/nginx", f"127.0.0.1:{self.port}")
                server = self.start(["nginx", "-c", conf, "-p", root, "-e", f"{root}/error.log"])
            with open(f"{self.tmp}/resolv.conf", "w") as f:
                f.write("nameserver 127.0.0.1\n")
            script = 'mount --bind "$1" /etc/resolv.conf && shift 1 && exec "$@"'
            u = self.start(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh",
                            f"{self.tmp}/resolv.conf", self.bin, "run", "--instance", self.tag,
                            "--set", "dns.servers=127.0.0.1:9", "--set", "dns.hostResolver=false"]
                           + self.options + ["--", "sleep", "infinity"])
            # unshare and sh exec: u is Usernet itself, and the guest's sleep its descendant.
            self.usernet = u.pid
            self.guest = find_guest(u.pid)
            self.server = descendants(server.pid) if server else []
            time.sleep(1.5)
            return self
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def in_guest(self, argv, timeout=300):
        return subprocess.run(["nsenter", "-t", str(self.guest), "-n", "--"] + argv, capture_output=True, text=True,
                              timeout=timeout)

    def __exit__(self, *_):
        subprocess.run(["rm", "-rf", f"/run/usernet/{self.tag}", f"/run/usernet/{self.tag}.sock", self.tmp])
        for p in reversed(self.procs):
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=10)
            except Exception:
                p.kill()
