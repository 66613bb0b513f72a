"""The container engines the Docker workloads compare, one adapter each.

Each engine runs its own dockerd with its own data root; a client reaches a container through
the port the container published, on 127.0.0.1:

- usernet: `usernet docker`; the client is on the host, the container in Usernet's guest.
- docker-proxy, no userland proxy: rootful dockerd as Docker runs on a host, with its default
  userland proxy (docker-proxy relays what reaches 127.0.0.1) or with --userland-proxy=false
  (the kernel's NAT carries it). So that the benchmark leaves the host's network alone (its
  docker0, its iptables rules), each runs in network, mount, PID and cgroup namespaces of its
  own, and its client runs in that network namespace: the same kernel paths as on the host.

Every engine has the adapter interface of stacks.py (check, start, stop, alive, guest), plus
docker(argv), which runs the docker CLI against it.
"""

import os
import shutil
import signal
import time

from .proc import RunFailed, children, tail

HOST_ADDR = "127.0.0.1"


def cgroup2_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2" and fields[3] == "/":
                return fields[4]
    return None


def remove_cgroup(path):
    """rmdir of the cgroup and every one below it, deepest first, once their processes are gone."""
    for _ in range(100):
        if not os.path.isdir(path):
            return
        for root, dirs, _ in sorted(os.walk(path), key=lambda e: -e[0].count("/")):
            try:
                os.rmdir(root)
            except OSError:
                pass
        time.sleep(0.05)


class Engine:
    key = ""
    title = ""
    host_addr = HOST_ADDR
    stack_pid = None
    has_process = False

    def __init__(self, ctx):
        self.ctx = ctx
        self.process = None
        self.socket = None

    def check(self):
        for program in ("dockerd", "docker", "docker-proxy", "unshare", "nsenter"):
            if not shutil.which(program) and not shutil.which(program, path="/usr/sbin:/sbin"):
                return f"{program} is not installed (apt-get install docker.io util-linux)"
        return None

    def version(self):
        return None

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def guest(self, argv):
        """Where the client runs."""
        return list(argv)

    def docker(self, argv):
        return ["docker", "-H", f"unix://{self.socket}"] + list(argv)

    def diagnostics(self):
        return None

    def _log(self):
        return os.path.join(self.ctx.tmp, f"{self.key}.log")

    def _wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RunFailed(f"{self.title} exited: {tail(self._log())}")
            status, _, _ = self.ctx.procs.run(self.docker(["version", "--format", "{{.Server.Version}}"]), 20)
            if status == 0:
                return
            time.sleep(0.2)
        raise RunFailed(f"{self.title}: dockerd did not answer within {timeout} s: {tail(self._log())}")


class UsernetDocker(Engine):
    key = "usernet"
    title = "usernet docker"
    has_process = True

    def check(self):
        return self.ctx.usernet_unavailable or super().check()

    def version(self):
        return self.ctx.usernet_version

    def start(self):
        self.socket = os.path.join(self.ctx.tmp, "usernet-docker.sock")
        data = os.path.join(self.ctx.tmp, "usernet-data")
        argv = [self.ctx.usernet_bin, "docker", "--data-root", data, "--docker-socket", self.socket,
                "--instance", f"bench-docker-{os.getpid()}", "--no-context"]
        with open(self._log(), "ab") as log:
            self.process = self.ctx.procs.start(argv, stdout=log, stderr=log)
        self.stack_pid = self.process.pid
        self._wait_ready()

    def stop(self):
        if self.process is not None:
            self.ctx.procs.stop(self.process, timeout=60)
            self.process = None


class HostDocker(Engine):
    """Rootful dockerd in namespaces of its own (see the module's comment)."""
    INNER = r"""
set -e
mount -t proc proc /proc
mount -t tmpfs -o mode=755 tmpfs /run
umount -l /sys
mount -t sysfs sysfs /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir /sys/fs/cgroup/init
echo $$ > /sys/fs/cgroup/init/cgroup.procs
sed -e 's/\([^ ]\+\)/+\1/g' /sys/fs/cgroup/cgroup.controllers > /sys/fs/cgroup/cgroup.subtree_control || true
ip link set lo up
dockerd --data-root "$1" --exec-root /run/docker --pidfile /run/docker.pid -H "unix://$2" \
    --config-file "$3" --userland-proxy="$4" &
wait
"""

    def __init__(self, ctx, userland_proxy):
        super().__init__(ctx)
        self.userland_proxy = userland_proxy
        self.key = "docker-proxy" if userland_proxy else "no-userland-proxy"
        self.title = "rootful dockerd, docker-proxy" if userland_proxy else "rootful dockerd, --userland-proxy=false"
        self.cgroup = None
        self.dockerd = None

    def version(self):
        return None

    def start(self):
        root = cgroup2_root()
        if root is None:
            raise RunFailed("no cgroup2 hierarchy is mounted")
        self.cgroup = os.path.join(root, f"usernet-bench-{self.key}-{os.getpid()}")
        os.makedirs(self.cgroup, exist_ok=True)
        self.socket = os.path.join(self.ctx.tmp, f"{self.key}.sock")
        data = os.path.join(self.ctx.tmp, f"{self.key}-data")
        config = os.path.join(self.ctx.tmp, f"{self.key}-daemon.json")
        with open(config, "w") as f:
            f.write("{}\n")
        # The shell enters the cgroup first, so that the new cgroup namespace is rooted there.
        outer = 'echo $$ > "$1/cgroup.procs" && shift && exec unshare --net --mount --pid --cgroup --fork --kill-child ' \
                '--propagation private -- sh -c "$0" sh "$@"'
        argv = ["sh", "-c", outer, self.INNER, self.cgroup, data, self.socket, config,
                "true" if self.userland_proxy else "false"]
        with open(self._log(), "ab") as log:
            self.process = self.ctx.procs.start(argv, stdout=log, stderr=log)
        self._wait_ready()
        self.dockerd = self._find_dockerd()

    def _find_dockerd(self):
        pending = [self.process.pid]
        while pending:
            pid = pending.pop()
            try:
                if os.path.basename(os.readlink(f"/proc/{pid}/exe")) == "dockerd":
                    return pid
            except OSError:
                pass
            pending.extend(children(pid))
        raise RunFailed(f"{self.title}: no dockerd process")

    def guest(self, argv):
        return ["nsenter", "-t", str(self.dockerd), "-n", "--"] + list(argv)

    def stop(self):
        if self.dockerd is not None:
            # dockerd stops its containers; then the namespace ends with unshare's child.
            try:
                os.kill(self.dockerd, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 30
            while os.path.exists(f"/proc/{self.dockerd}") and time.monotonic() < deadline:
                time.sleep(0.1)
            self.dockerd = None
        if self.process is not None:
            self.ctx.procs.stop(self.process, timeout=10)
            self.process = None
        if self.cgroup is not None:
            remove_cgroup(self.cgroup)
            self.cgroup = None


def all_engines(ctx):
    return [UsernetDocker(ctx), HostDocker(ctx, userland_proxy=True), HostDocker(ctx, userland_proxy=False)]
