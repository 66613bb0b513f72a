"""The benchmark's container image, made from the host's own programs: nothing is pulled.

iperf3 and nginx are copied with the shared libraries ldd names, and imported into each engine
with `docker import`, so every engine runs the very same server binaries as the host columns.
"""

import io
import os
import re
import shutil
import subprocess
import tarfile

IMAGE = "usernet-bench-server"

PROGRAMS = ["iperf3", "nginx"]

# One worker, no keep-alive, a 3-byte body: the same server as bench/run's tcp_connect_rate.
NGINX_CONF = """user root;
daemon off;
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr warn;
events { worker_connections 8192; }
http {
    access_log off;
    keepalive_timeout 0;
    client_body_temp_path /tmp/client_body; proxy_temp_path /tmp/proxy; fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi; scgi_temp_path /tmp/scgi;
    server {
        listen 80 backlog=4096;
        location / { return 200 "ok\\n"; }
    }
}
"""

NGINX_ARGV = ["/usr/sbin/nginx", "-c", "/etc/nginx-bench.conf", "-p", "/tmp", "-e", "stderr"]


def libraries(binary):
    """The files ldd says binary loads (the dynamic loader included)."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if m:
            found.append(m.group(1))
    return found


def build(path):
    """Writes the image's root file system as a tar to path; returns the binaries' paths in it."""
    binaries = {name: shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin") for name in PROGRAMS}
    missing = [n for n, p in binaries.items() if not p]
    if missing:
        raise RuntimeError(f"not installed: {', '.join(missing)}")
    files = set()
    for binary in binaries.values():
        files.add(binary)
        files.update(libraries(binary))
    with tarfile.open(path, "w") as tar:
        for directory in ("tmp", "etc", "usr/sbin", "usr/bin"):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)
        for file in sorted(files):
            # Follow links: the image holds the files themselves, at the paths the loader asks for.
            tar.add(os.path.realpath(file), arcname=file.lstrip("/"), recursive=False)
        for name, text in (("etc/nginx-bench.conf", NGINX_CONF), ("etc/passwd", "root:x:0:0:root:/:/bin/false\n"),
                           ("etc/group", "root:x:0:\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return binaries
