"""What the benchmark needs on the machine: Debian packages, the Usernet binary, and a record of both."""

import os
import platform
import shutil
import subprocess
import sys

# program -> Debian package. dnsmasq-base, not dnsmasq: the latter starts a system resolver.
PROGRAMS = {
    "iperf3": "iperf3",
    "sockperf": "sockperf",
    "ab": "apache2-utils",
    "dnsperf": "dnsperf",
    "nginx": "nginx-light",
    "dnsmasq": "dnsmasq-base",
    "pasta": "passt",
    "slirp4netns": "slirp4netns",
    "nsenter": "util-linux",
    "unshare": "util-linux",
    "ip": "iproute2",
}


def missing_packages():
    missing = sorted({pkg for prog, pkg in PROGRAMS.items() if not shutil.which(prog)})
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        missing.append("python3-matplotlib")
    return missing


def install_packages(tmp, say):
    missing = missing_packages()
    if not missing:
        return
    say(f"installing {' '.join(missing)}")
    # dpkg unpacks under TMPDIR; keep it in the benchmark's own directory.
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", TMPDIR=tmp)
    subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL, check=False)
    result = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        say(f"apt-get install failed; what is missing is reported as not available:\n{result.stdout[-2000:]}")
    if "python3-matplotlib" in missing:
        import importlib
        importlib.invalidate_caches()


def build_usernet(repo, say):
    """Builds Usernet through ./usernet (which rebuilds only when the sources changed).

    Returns (binary, version, reason-if-unavailable)."""
    binary = os.path.join(repo, ".build", "bin", "usernet")
    say("building Usernet (./usernet version)")
    try:
        result = subprocess.run([os.path.join(repo, "usernet"), "version"], capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        return binary, None, f"build failed: {e}"
    if result.returncode != 0:
        return binary, None, f"build failed: {(result.stderr or result.stdout).strip()[-300:]}"
    version = result.stdout.strip().split()[-1] if result.stdout.strip() else "unknown"
    # The last commit that changed the sources names the build better than HEAD does.
    commit = git(repo, "log", "-1", "--format=%h", "--", "src", "Directory.Build.props")
    if commit:
        dirty = git(repo, "status", "--porcelain", "--", "src")
        version += f" (src at {commit}{', modified' if dirty else ''})"
    return binary, version, None


def git(repo, *args):
    try:
        return subprocess.run(["git", "-C", repo] + list(args), capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def first_line(argv, pattern=None):
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in (result.stdout + result.stderr).splitlines():
        if line.strip() and (pattern is None or pattern in line):
            return line.strip()
    return None


def machine_info():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        memory_kib = int(f.readline().split()[1])
    os_name = platform.system()
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass

    def dpkg(package):
        return first_line(["dpkg-query", "-W", "-f=${Version}", package])

    def version_word(line):
        return line.split()[1] if line and len(line.split()) > 1 else line

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_kib / (1 << 20),
        "kernel": platform.release(),
        "os": os_name,
        "python": sys.version.split()[0],
        "load_before": load_average(),
        "versions": {
            "pasta": dpkg("passt"),
            "slirp4netns": dpkg("slirp4netns"),
            "iperf3": version_word(first_line(["iperf3", "--version"], "iperf")),
            "sockperf": dpkg("sockperf"),
            "dnsperf": dpkg("dnsperf"),
            "dnsmasq": dpkg("dnsmasq-base"),
            "nginx": dpkg("nginx-light") or dpkg("nginx-core") or dpkg("nginx"),
            "ab": dpkg("apache2-utils"),
        },
    }


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
