"""Processes the benchmark starts, and what it reads about them from /proc.

Every child is started in a session of its own (a Ctrl-C at the terminal reaches only the
benchmark, which then ends each child by its PID) and is remembered until it is ended.
"""

import os
import signal
import socket
import subprocess
import time


class NotAvailable(Exception):
    """A stack cannot run a workload at all; the reason goes into the results."""


class RunFailed(Exception):
    """One run of a workload failed; other runs may still succeed."""


class Processes:
    def __init__(self):
        self._running = []

    def start(self, argv, *, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=None, pass_fds=()):
        p = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr if stderr is not None else subprocess.DEVNULL,
                             start_new_session=True, pass_fds=pass_fds, close_fds=True)
        self._running.append(p)
        return p

    def run(self, argv, timeout, *, stdin_text=None):
        """Runs argv to completion; returns (exit status, stdout, stderr). Raises RunFailed on timeout."""
        p = self.start(argv, stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(stdin_text.encode() if stdin_text is not None else None, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(p, timeout=2)
            raise RunFailed(f"{os.path.basename(argv[0])} did not finish within {timeout:.0f} s")
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM): end the child before unwinding.
            self.stop(p, timeout=2)
            raise
        self._forget(p)
        return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def stop(self, p, sig=signal.SIGTERM, timeout=5.0):
        """Ends one child by its PID: sig, then SIGKILL after timeout."""
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
            except ProcessLookupError:
                pass
        for stream in (p.stdin, p.stdout, p.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        self._forget(p)

    def stop_all(self):
        for p in reversed(list(self._running)):
            self.stop(p, timeout=3)

    def _forget(self, p):
        if p in self._running:
            self._running.remove(p)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_times(pid):
    """(user, system) CPU seconds of the process (all its threads), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def cpu_seconds(pid):
    """User plus system CPU time of the process (all its threads)."""
    return sum(cpu_times(pid))


def machine_cpu():
    """(softirq, busy) CPU seconds of all the machine's CPUs together, from /proc/stat (busy:
    every state but idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[6] / CLOCK_TICKS, (sum(v[:8]) - v[3] - v[4]) / CLOCK_TICKS


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RunFailed(f"no VmRSS for PID {pid}")


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def free_port():
    """A port free on 127.0.0.1 for both TCP and UDP (iperf3 uses the same number for both)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port on 127.0.0.1")


def _bound(port, tables, state):
    want = f":{port:04X}"
    for table in tables:
        with open(table) as f:
            next(f)
            for line in f:
                cols = line.split()
                if cols[1].endswith(want) and (state is None or cols[3] == state):
                    return True
    return False


def wait_bound(port, proto, timeout, process=None, netns_pid=None):
    """Waits until something in this network namespace (or in that of netns_pid) listens on TCP
    port (or binds UDP port)."""
    root = f"/proc/{netns_pid}/net" if netns_pid else "/proc/net"
    tables = [f"{root}/tcp"] if proto == "tcp" else [f"{root}/udp"]
    state = "0A" if proto == "tcp" else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _bound(port, tables, state):
            return
        if process is not None and process.poll() is not None:
            raise RunFailed(f"the server exited with status {process.returncode} before listening on {proto} port {port}")
        time.sleep(0.02)
    raise RunFailed(f"nothing listened on {proto} port {port} within {timeout} s")


def tail(path, lines=5):
    try:
        with open(path, errors="replace") as f:
            text = [line.rstrip() for line in f.readlines() if line.strip()]
    except OSError:
        return ""
    return " | ".join(text[-lines:])
