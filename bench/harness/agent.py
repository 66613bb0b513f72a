"""The benchmark's own small programs, run inside a guest (through nsenter) or on the host.

    agent.py tcp-probe HOST PORT TIMEOUT          connect once; exit 0 when it works
    agent.py udp-probe HOST PORT TIMEOUT          one datagram to an echo server; exit 0 on the echo
    agent.py dns-probe HOST PORT NAME TIMEOUT     one A query; prints {"rcode": N, "answers": N}
    agent.py hold-client HOST PORT COUNT TIMEOUT  open COUNT connections, report, hold until stdin closes
    agent.py hold-server PORT STATUSFILE          accept on 127.0.0.1:PORT and hold until stdin closes

Only the standard library: the guest runs whatever python3 the host has. Every loop is bounded
by its TIMEOUT, and every result goes to stdout as one JSON line.
"""

import errno
import json
import os
import select
import socket
import struct
import sys
import threading
import time


def describe(error):
    if isinstance(error, ConnectionRefusedError):
        return "refused (ICMP port unreachable)"
    return error.strerror or str(error)


def emit(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def tcp_probe(host, port, timeout):
    try:
        with socket.create_connection((host, int(port)), timeout=float(timeout)):
            pass
    except OSError as e:
        emit({"ok": False, "reason": f"TCP connect: {describe(e)}"})
        return 1
    emit({"ok": True})
    return 0


def udp_probe(host, port, timeout):
    deadline = time.monotonic() + float(timeout)
    payload = b"usernet-bench-probe"
    last = "no echo"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, int(port)))
        while time.monotonic() < deadline:
            try:
                s.send(payload)
                s.settimeout(min(0.5, max(0.05, deadline - time.monotonic())))
                if s.recv(2048) == payload:
                    emit({"ok": True})
                    return 0
            except socket.timeout:
                last = f"no echo within {timeout} s"
            except OSError as e:
                last = describe(e)
                time.sleep(0.1)
    emit({"ok": False, "reason": last})
    return 1


def dns_query(name, qid):
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    return header + labels + b"\x00" + struct.pack("!HH", 1, 1)


def dns_probe(host, port, name, timeout):
    deadline = time.monotonic() + float(timeout)
    last = "no answer"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, int(port)))
        qid = os.getpid() & 0xFFFF
        while time.monotonic() < deadline:
            try:
                s.send(dns_query(name, qid))
                s.settimeout(min(0.5, max(0.05, deadline - time.monotonic())))
                reply = s.recv(4096)
                if len(reply) >= 12 and struct.unpack("!H", reply[:2])[0] == qid:
                    flags, _, answers = struct.unpack("!HHH", reply[2:8])
                    emit({"ok": True, "rcode": flags & 0xF, "answers": answers})
                    return 0
            except socket.timeout:
                last = f"no answer within {timeout} s"
            except OSError as e:
                last = describe(e)
                time.sleep(0.1)
    emit({"ok": False, "reason": last})
    return 1


def hold_client(host, port, count, timeout):
    """Opens count connections, at most 256 in flight, and holds them until stdin closes."""
    count, deadline = int(count), time.monotonic() + float(timeout)
    address = (host, int(port))
    poller = select.epoll()
    pending, established, failures = {}, [], {}
    started = 0
    while len(established) < count and time.monotonic() < deadline:
        while started < count and len(pending) < 256:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex(address)
            started += 1
            if err not in (0, errno.EINPROGRESS):
                failures[os.strerror(err)] = failures.get(os.strerror(err), 0) + 1
                s.close()
                continue
            pending[s.fileno()] = s
            poller.register(s.fileno(), select.EPOLLOUT)
        if not pending and started >= count:
            break
        for fd, _ in poller.poll(0.2):
            s = pending.pop(fd)
            poller.unregister(fd)
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0:
                established.append(s)
            else:
                failures[os.strerror(err)] = failures.get(os.strerror(err), 0) + 1
                s.close()
    emit({"connected": len(established), "failed": failures, "timed_out": len(established) < count and time.monotonic() >= deadline})
    sys.stdin.read()
    for s in established:
        s.close()
    return 0


def hold_server(port, status_file):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(port)))
    listener.listen(4096)
    held = []
    done = threading.Event()

    def wait_for_eof():
        sys.stdin.read()
        done.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    emit({"listening": True})
    listener.settimeout(0.2)
    written = -1
    while not done.is_set():
        try:
            conn, _ = listener.accept()
            held.append(conn)
            continue
        except socket.timeout:
            pass
        if written != len(held):
            with open(status_file + ".new", "w") as f:
                f.write(str(len(held)))
            os.replace(status_file + ".new", status_file)
            written = len(held)
    for conn in held:
        conn.close()
    return 0


COMMANDS = {
    "tcp-probe": tcp_probe,
    "udp-probe": udp_probe,
    "dns-probe": dns_probe,
    "hold-client": hold_client,
    "hold-server": hold_server,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]))
