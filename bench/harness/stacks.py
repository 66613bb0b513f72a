"""One adapter per network stack under test.

An adapter starts a guest (a network namespace whose traffic goes through the stack), runs
commands inside it, and names the process whose CPU time and memory are the stack's cost. The
host-loopback adapter has no stack at all: its "guest" is the host, and it is the physical limit
every other column is measured against.

Each stack also publishes three ports of its guest on the host's 127.0.0.1, as `docker run -p`
does, for the published-port workloads: Usernet with -p, pasta with -t, slirp4netns with its
API's add_hostfwd. The guest's servers listen on the fixed PUBLISHED_GUEST_PORTS; the host ports
are chosen free when the stack starts, so that every stack can run at once.

To add a stack: subclass Stack, fill in start/stop/time_true and the guest's address for the
host's loopback, publish `self.published`, and add the class to ALL.
"""

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import time

from .proc import RunFailed, children, free_port, tail

HOST_NETNS = os.readlink("/proc/self/ns/net")

# The guest-side ports of the published-port workloads' servers (see published.py).
PUBLISHED_GUEST_PORTS = {"iperf3": 15201, "sockperf": 15202, "nginx": 15203}


class Stack:
    key = ""
    title = ""
    program = ""          # the executable the stack needs; missing means not available
    stack_pid = None      # the process whose CPU and RSS are the stack's cost
    host_addr = None      # the guest's address for the host's 127.0.0.1
    has_process = False
    guest_pid = None      # a process in the guest's network namespace (None: the host's)

    def __init__(self, ctx):
        self.ctx = ctx
        self.published = {}   # server name -> the host port on 127.0.0.1 that reaches it in the guest

    def in_default_run(self):
        """Whether a run without --stacks includes this stack."""
        return True

    def check(self):
        """None when the stack can run here, else the reason it cannot."""
        if self.program and not shutil.which(self.program):
            return f"{self.program} is not installed"
        return None

    def version(self):
        return None

    def start(self):
        pass

    def stop(self):
        pass

    def alive(self):
        return True

    def guest(self, argv):
        """argv as a command that runs inside the guest."""
        return list(argv)

    def dns_server(self):
        """The DNS server a guest of this stack uses: by default dnsmasq on the host's loopback."""
        return self.host_addr, self.ctx.servers.dns_front_port

    def dns_server_title(self):
        return "dnsmasq on the host"

    def time_true(self):
        """Wall seconds to bring up a guest with its network, run `true` in it, and tear it down."""
        raise NotImplementedError

    def guest_port(self, name):
        """The port the guest's server `name` listens on."""
        return PUBLISHED_GUEST_PORTS[name]

    def _choose_published(self):
        self.published = {name: free_port() for name in PUBLISHED_GUEST_PORTS}

    def diagnostics(self):
        return None


class HostLoopback(Stack):
    key = "host"
    title = "host loopback"
    host_addr = "127.0.0.1"

    def __init__(self, ctx):
        super().__init__(ctx)
        # No forwarding: the "guest's" servers listen on the host, on the ports the client uses.
        self._choose_published()

    def guest_port(self, name):
        return self.published[name]

    def time_true(self):
        # No stack to start: the bare cost of a network namespace, as a floor for the others.
        t0 = time.monotonic()
        status, _, err = self.ctx.procs.run(["unshare", "--net", "--", "true"], 30)
        elapsed = time.monotonic() - t0
        if status != 0:
            raise RunFailed(f"unshare --net true failed: {err.strip()}")
        return elapsed


class NamespacedStack(Stack):
    """A stack whose guest is a network namespace entered with nsenter."""
    process = None
    has_process = True

    def guest(self, argv):
        return ["nsenter", "-t", str(self.guest_pid), "-n", "--"] + list(argv)

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def _log_path(self, name):
        return os.path.join(self.ctx.tmp, f"{name}.log")

    def _find_guest(self, parent, timeout, exe=None):
        """The first child of parent; with exe, only once parent has exec'd exe (a wrapper's own
        children, such as mount, are not the guest)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                ready = exe is None or os.readlink(f"/proc/{parent}/exe") == exe
            except OSError:
                ready = False
            kids = children(parent) if ready else []
            if kids:
                return kids[0]
            if self.process.poll() is not None:
                break
            time.sleep(0.01)
        raise RunFailed(f"{self.title} started no guest process ({self._exit_note()})")

    def _exit_note(self):
        code = self.process.poll()
        note = "still running" if code is None else f"exited with status {code}"
        log = tail(self._log_path(self.key))
        return f"{note}; log: {log}" if log else note

    def _await_network(self, timeout=20):
        """Waits until the guest is in a namespace of its own, has a default route and reaches the host."""
        deadline = time.monotonic() + timeout
        procs = self.ctx.procs
        while True:
            if self.process.poll() is not None:
                raise RunFailed(f"{self.title} exited before its guest came up ({self._exit_note()})")
            status, out, _ = procs.run(self.guest(["readlink", "/proc/self/ns/net"]), 10)
            if status == 0 and out.strip() and out.strip() != HOST_NETNS:
                status, out, _ = procs.run(self.guest(["ip", "-4", "route", "show", "default"]), 10)
                words = out.split()
                if status == 0 and "via" in words:
                    gateway = words[words.index("via") + 1]
                    break
            if time.monotonic() > deadline:
                raise RunFailed(f"{self.title}: the guest got no network within {timeout} s ({self._exit_note()})")
            time.sleep(0.05)
        if self.host_addr is None:
            self.host_addr = gateway
        probe = self.ctx.agent.argv("tcp-probe", self.host_addr, self.ctx.servers.tcp_probe_port, 5)
        while True:
            status, out, _ = procs.run(self.guest(probe), 15)
            if status == 0:
                return
            if time.monotonic() > deadline:
                raise RunFailed(f"{self.title}: the guest cannot reach the host: {out.strip()}")
            time.sleep(0.1)

    def _start_process(self, argv, **kwargs):
        with open(self._log_path(self.key), "ab") as log:
            return self.ctx.procs.start(argv, stdout=log, stderr=subprocess.STDOUT, **kwargs)


class Usernet(NamespacedStack):
    key = "usernet"
    title = "Usernet"
    host_addr = "192.168.65.254"
    _instances = 0

    def check(self):
        return self.ctx.usernet_unavailable

    def version(self):
        return self.ctx.usernet_version

    def start(self):
        Usernet._instances += 1
        self.instance = f"bench-{os.getpid()}-{Usernet._instances}"
        settings = [
            # Usernet's DNS forwards to the benchmark's own upstream on loopback, never to the
            # machine's resolver.
            "--set", f"dns.servers=127.0.0.1:{self.ctx.servers.dns_upstream_port}",
            "--set", "dns.hostResolver=false",
        ] + self.extra_settings()
        self._choose_published()
        for name, host_port in self.published.items():
            settings += ["-p", f"127.0.0.1:{host_port}:{PUBLISHED_GUEST_PORTS[name]}"]
        self.process = self._start_process(self._isolated_resolver()
                                           + [self.ctx.usernet_bin, "run", "--instance", self.instance] + settings
                                           + ["--", "sleep", "infinity"])
        self.stack_pid = self.process.pid
        self.guest_pid = self._find_guest(self.process.pid, 20, os.path.realpath(self.ctx.usernet_bin))
        self._await_network()

    def extra_settings(self):
        """More --set or --settings options, for a variant of this stack."""
        return []

    def _isolated_resolver(self):
        """A command prefix: a private mount namespace whose /etc/resolv.conf and /etc/hosts name
        only loopback, so that even a lookup through the host's resolver stays on this machine.
        The shell execs Usernet, so the PID started is Usernet's."""
        resolv = os.path.join(self.ctx.tmp, "resolv.conf")
        hosts = os.path.join(self.ctx.tmp, "hosts")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.1\n")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n::1 localhost\n")
        script = 'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"'
        return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", resolv, hosts]

    def dns_server(self):
        return "192.168.65.1", 53

    def dns_server_title(self):
        return "Usernet's DNS on the gateway"

    def stop(self):
        if self.process is None:
            return
        if self.alive():
            self._stats = self._read_stats()
        # SIGTERM is relayed to the guest's command; Usernet then removes the namespace and exits.
        self.ctx.procs.stop(self.process, signal.SIGTERM, timeout=10)
        self.process = None

    def _read_stats(self):
        try:
            status, out, _ = self.ctx.procs.run([self.ctx.usernet_bin, "stats", "--instance", self.instance], 10)
            return json.loads(out) if status == 0 else None
        except (RunFailed, ValueError):
            return None

    def diagnostics(self):
        return getattr(self, "_stats", None)

    def time_true(self):
        t0 = time.monotonic()
        status, _, err = self.ctx.procs.run([self.ctx.usernet_bin, "run", "--", "true"], 30)
        elapsed = time.monotonic() - t0
        if status != 0:
            raise RunFailed(f"usernet run -- true exited with {status}: {err.strip()[-300:]}")
        return elapsed


class UsernetEgressRules(Usernet):
    """Usernet with an egress policy of 1,000 rules that every new flow reads to the end: 999
    deny rules for networks and ports the benchmark never uses, then an allow for the host,
    under a deny default. Beside plain Usernet it shows what the rules cost a connection's set-up."""
    key = "usernet_rules"
    title = "Usernet, 1,000 egress rules"
    rule_count = 1000

    def in_default_run(self):
        # A variant: only when named in --stacks, so that a full run stays comparable.
        return False

    def extra_settings(self):
        rules = [{"action": "deny", "to": f"10.{i // 250}.{i % 250}.0/24", "ports": "80,8000-9000", "protocols": ["tcp"]}
                 for i in range(self.rule_count - 1)]
        rules.append({"action": "allow", "to": "host"})
        path = os.path.join(self.ctx.tmp, "egress-settings.json")
        with open(path, "w") as f:
            json.dump({"egress": {"default": "deny", "rules": rules}}, f)
        return ["--settings", path]


class Pasta(NamespacedStack):
    """pasta: the binary given with --pasta (the 2026-07 one that ../shared/peers/build-pasta
    builds is the anchor of the committed results), else the one on PATH (Debian's)."""
    key = "pasta"
    title = "pasta"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.program = ctx.pasta or "pasta"

    def version(self):
        # pasta --version names its source: "pasta 2026.07-06fedeb" for the peers' build.
        line = first_output_line([self.program, "--version"])
        if line and line.startswith("pasta "):
            return line.split(None, 1)[1] + ("" if self.ctx.pasta is None else f" ({self.program})")
        return dpkg_version("passt")

    def start(self):
        # As root, pasta needs --runas 0 to keep the rights to configure the namespace.
        self.host_addr = None
        self._choose_published()
        # One listening address, then the host:guest port pairs.
        forwards = "127.0.0.1/" + ",".join(f"{port}:{PUBLISHED_GUEST_PORTS[name]}" for name, port in self.published.items())
        # -T none -U none: by default pasta binds, inside its namespace, every port the host listens
        # on (to forward it out), and Debian's pasta binds on the host every port its guest listens
        # on. Two pastas side by side then take each other's guest ports (15201 is in use when the
        # guest's iperf3 starts), and the published-port figures lose their pasta column.
        self.process = self._start_process([self.program, "--runas", "0", "--config-net", "-t", forwards,
                                            "-T", "none", "-U", "none", "--", "sleep", "infinity"])
        self.stack_pid = self.process.pid
        self.guest_pid = self._find_guest(self.process.pid, 20)
        # Inside, pasta's default gateway stands for the host's loopback.
        self._await_network()

    def stop(self):
        if self.process is None:
            return
        # The guest is PID 1 of its own PID namespace and ignores SIGTERM; pasta exits after it.
        if self.guest_pid is not None:
            try:
                os.kill(self.guest_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.guest_pid = None
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.ctx.procs.stop(self.process, timeout=5)
        self.process = None

    def time_true(self):
        t0 = time.monotonic()
        status, _, err = self.ctx.procs.run([self.program, "--runas", "0", "--config-net", "--", "true"], 30)
        elapsed = time.monotonic() - t0
        if status != 0:
            raise RunFailed(f"pasta -- true exited with {status}: {err.strip()[-300:]}")
        return elapsed


class Slirp4netns(NamespacedStack):
    key = "slirp4netns"
    title = "slirp4netns"
    program = "slirp4netns"
    host_addr = "10.0.2.2"

    def version(self):
        try:
            out = subprocess.run(["slirp4netns", "--version"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            return None
        lines = out.splitlines()
        libslirp = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("libslirp")), None)
        return lines[0].split()[-1] + (f" (libslirp {libslirp})" if libslirp else "") if lines else None

    @property
    def _api_socket(self):
        return os.path.join(self.ctx.tmp, f"slirp4netns-{os.getpid()}.sock")

    def _publish(self):
        """Adds each published port through slirp4netns' API (one JSON request per connection)."""
        for name, host_port in self.published.items():
            request = {"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1",
                                                               "host_port": host_port,
                                                               "guest_port": PUBLISHED_GUEST_PORTS[name]}}
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(10)
                s.connect(self._api_socket)
                s.sendall(json.dumps(request).encode())
                s.shutdown(socket.SHUT_WR)
                answer = s.recv(4096).decode(errors="replace")
            if "error" in json.loads(answer or "{}") or not answer:
                raise RunFailed(f"slirp4netns add_hostfwd {host_port}->{PUBLISHED_GUEST_PORTS[name]}: {answer or 'no answer'}")

    def _attach(self, namespace_holder, publish=False):
        """Attaches slirp4netns to the namespace of namespace_holder once that namespace exists."""
        deadline = time.monotonic() + 10
        while True:
            try:
                if os.readlink(f"/proc/{namespace_holder.pid}/ns/net") != HOST_NETNS:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or namespace_holder.poll() is not None:
                raise RunFailed("unshare --net did not create a namespace")
            time.sleep(0.002)
        ready_read, ready_write = os.pipe()
        api = ["--api-socket", self._api_socket] if publish else []
        try:
            process = self._start_process(["slirp4netns", "--configure", "--mtu=65520", "--disable-dns",
                                           f"--ready-fd={ready_write}"] + api + [str(namespace_holder.pid), "tap0"],
                                          pass_fds=(ready_write,))
            os.close(ready_write)
            ready_write = None
            readable, _, _ = select.select([ready_read], [], [], 15)
            if not readable or not os.read(ready_read, 16):
                raise RunFailed(f"slirp4netns did not configure tap0 ({tail(self._log_path(self.key))})")
            return process
        finally:
            os.close(ready_read)
            if ready_write is not None:
                os.close(ready_write)

    def start(self):
        self.holder = self.ctx.procs.start(["unshare", "--net", "--", "sleep", "infinity"])
        self.guest_pid = self.holder.pid
        self._choose_published()
        self.process = self._attach(self.holder, publish=True)
        self.stack_pid = self.process.pid
        self._publish()
        self._await_network()

    def stop(self):
        # slirp4netns does not exit when its namespace goes away: end both.
        if self.process is not None:
            self.ctx.procs.stop(self.process, timeout=5)
            self.process = None
        if getattr(self, "holder", None) is not None:
            self.ctx.procs.stop(self.holder, timeout=5)
            self.holder = None

    def time_true(self):
        t0 = time.monotonic()
        holder = self.ctx.procs.start(["unshare", "--net", "--", "sh", "-c", "read _ && exec true"], stdin=subprocess.PIPE)
        process = None
        try:
            process = self._attach(holder)
            holder.stdin.write(b"\n")
            holder.stdin.close()
            status = holder.wait(30)
            self.ctx.procs.stop(process, timeout=5)
            elapsed = time.monotonic() - t0
        finally:
            if process is not None:
                self.ctx.procs.stop(process, timeout=5)
            self.ctx.procs.stop(holder, timeout=5)
        if status != 0:
            raise RunFailed(f"true in the slirp4netns namespace exited with {status}")
        return elapsed


class DebianPasta(Pasta):
    """Debian's pasta as an extra column beside the one given with --pasta: what a user of the
    distribution runs. Only in runs with --pasta (otherwise it is the pasta column)."""
    key = "pasta-debian"
    title = "pasta (Debian)"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.program = "/usr/bin/pasta"

    def in_default_run(self):
        return (self.ctx.pasta is not None and os.path.exists(self.program)
                and os.path.realpath(self.ctx.pasta) != os.path.realpath(self.program))

    def version(self):
        return dpkg_version("passt")


def first_output_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [line.strip() for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    return lines[0] if lines else None


def dpkg_version(package):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


ALL = [HostLoopback, Usernet, UsernetEgressRules, Pasta, DebianPasta, Slirp4netns]
