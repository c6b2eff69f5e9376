"""Processes the bench runs: synmill and synmill-gen over net_memif, the
dpdk-testpmd macswap ceiling, and the Linux-kernel reference (synmill-gen on
a tap whose other end sits in a namespace with a kernel listener).

Every process gets its own --file-prefix and core; everything started is
stopped by PID and every namespace deleted, also on failure. Traffic stays on
memif or inside the namespace; addresses come from 198.18.0.0/15 and
2001:2::/48 (RFC 5180)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from synmill_telemetry import Telemetry  # noqa: E402

SERVER_IP = "198.18.0.2"
GEN_IP = "198.18.0.1"
PREFIX = 24
# IPv6 (issue 15): synmill is dual-stack where a scenario asks (ipv6=True).
SERVER_IP6 = "2001:2::2"
GEN_IP6 = "2001:2::1"
PREFIX6 = 64
GEN_ADDR6 = f"{GEN_IP6}/{PREFIX6}"
RUN_ID = os.getpid()
LIVE = []  # (Popen, name): stopped at exit


def log_dir():
    d = os.environ.get("SYNMILL_BENCH_LOGS")
    if not d:
        d = tempfile.mkdtemp(prefix="synmill-bench-")
        os.environ["SYNMILL_BENCH_LOGS"] = d
    return d


def start(cmd, name, stdin=subprocess.DEVNULL):
    path = os.path.join(log_dir(), f"{name}.log")
    log = open(path, "wb")
    log.write(("$ " + " ".join(cmd) + "\n").encode())
    log.flush()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    p.log_path = path
    LIVE.append(p)
    return p


def log_text(p):
    with open(p.log_path, "rb") as f:
        return f.read().decode(errors="replace")


def wait_for_line(p, text, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log_text(p):
            return
        if p.poll() is not None:
            raise RuntimeError(f"{p.args[0]} exited (rc {p.returncode}) before '{text}':\n{log_text(p)[-3000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"no '{text}' from {p.args[0]} within {timeout}s:\n{log_text(p)[-3000:]}")


def stop(p, sig=signal.SIGTERM, timeout=20):
    if p.poll() is None:
        try:
            p.send_signal(sig)
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
    if p in LIVE:
        LIVE.remove(p)
    return p.returncode


def stop_all():
    for p in list(LIVE):
        stop(p, signal.SIGKILL)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def anon_kib(pid, field="Anonymous"):
    """The process's anonymous memory (smaps_rollup "Anonymous"): synmill's
    own heap (connection tables, pools, timers). DPDK's memory under
    --no-huge (a memfd) and the memif region (a memfd the peer maps) are
    shared file mappings and not counted, whenever they are mapped.
    field="AnonHugePages": the part of it on transparent huge pages (the
    hashed index from 4 MiB, the records from 64 MiB: lib/tcp/zero_pages.hpp)."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_ticks():
    """(busy, total) jiffies over all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def proc_utime(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11])  # utime (field 14), in jiffies


class Memif:
    """One memif link: a socket path, a server role and a client role."""

    def __init__(self, tag):
        self.sock = f"/tmp/synmill-bench-{RUN_ID}-{tag}.sock"

    def vdev(self, role):
        return f"--vdev=net_memif0,role={role},socket={self.sock},rsize=14"

    def cleanup(self):
        try:
            os.unlink(self.sock)
        except FileNotFoundError:
            pass


def eal(core, prefix, vdev):
    """core: "1" (-l), or an --lcores map such as "0@1,1@1,2@1" (three lcores on CPU 1)."""
    cores = ["--lcores", str(core)] if "@" in str(core) else ["-l", str(core)]
    return cores + ["--no-pci", "--no-huge", "-m", "2048", "--file-prefix", prefix, vdev]


class Synmill:
    """synmill on the memif server role, core 0; with ipv6, dual-stack
    (SERVER_IP6 beside SERVER_IP)."""

    def __init__(self, build, tag, memif, options, ipv6=False):
        self.prefix = f"synmill-bench-{RUN_ID}-{tag}"
        addrs = ["--addr", f"{SERVER_IP}/{PREFIX}"] + (["--addr", f"{SERVER_IP6}/{PREFIX6}"] if ipv6 else [])
        cmd = [os.path.join(build, "apps", "synmill")] + eal(0, self.prefix, memif.vdev("server")) + \
            ["--"] + addrs + options
        self.proc = start(cmd, f"synmill-{tag}")
        wait_for_line(self.proc, "synmill: ready", 60)
        self.telemetry = Telemetry(self.prefix)

    def stats(self):
        return self.telemetry.query("/synmill/stats")

    def states(self):
        return self.telemetry.query("/synmill/states")

    def rss_kib(self):
        return rss_kib(self.proc.pid)

    def anon_kib(self, field="Anonymous"):
        return anon_kib(self.proc.pid, field)

    def stop(self):
        rc = stop(self.proc)
        shutil.rmtree(os.path.join("/var/run/dpdk", self.prefix), ignore_errors=True)
        return rc


class Testpmd:
    """dpdk-testpmd in synmill's place: rxonly (what the generator can push
    across the link) or macswap (the round trip)."""

    def __init__(self, tag, memif, mode="macswap"):
        self.prefix = f"testpmd-bench-{RUN_ID}-{tag}"
        cmd = ["stdbuf", "-oL", "dpdk-testpmd", "--lcores", "0@0,1@0", "--no-pci", "--no-huge", "-m", "1024", "--file-prefix",
               self.prefix, memif.vdev("server"), "--", f"--forward-mode={mode}", "--auto-start",
               "--nb-cores=1", "--rxq=1", "--txq=1", "--disable-link-check",
               "--burst=64", "--rxd=4096", "--txd=4096"]
        self.proc = start(cmd, f"testpmd-{tag}", stdin=subprocess.PIPE)
        wait_for_line(self.proc, "Press enter to exit", 60)

    def stop(self):
        rc = stop(self.proc, signal.SIGINT)
        shutil.rmtree(os.path.join("/var/run/dpdk", self.prefix), ignore_errors=True)
        return rc


def run_gen(build, tag, vdev, args, timeout, after_start=None, addr=None, lcores="1"):
    """synmill-gen on core 1 (lcores: e.g. "0,1,1" for two workers); returns (its JSON
    result, its utime in jiffies, wall s). after_start(p): called once the process runs
    (e.g. to move its tap). addr: its --addr (default GEN_IP/PREFIX; GEN_ADDR6 for IPv6)."""
    prefix = f"gen-bench-{RUN_ID}-{tag}"
    cmd = [os.path.join(build, "apps", "synmill-gen")] + eal(lcores, prefix, vdev) + \
        ["--", "--addr", addr or f"{GEN_IP}/{PREFIX}", "--json"] + args
    out_path = os.path.join(log_dir(), f"gen-{tag}.json")
    err_path = os.path.join(log_dir(), f"gen-{tag}.log")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        err.write(("$ " + " ".join(cmd) + "\n").encode())
        err.flush()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        p.log_path = err_path
        LIVE.append(p)
        t0 = time.monotonic()
        utime = 0
        try:
            if after_start is not None:
                after_start(p)
            while p.poll() is None:
                if time.monotonic() - t0 > timeout:
                    raise RuntimeError(f"synmill-gen {tag} ran past {timeout}s")
                try:
                    utime = proc_utime(p.pid)
                except (FileNotFoundError, ProcessLookupError, IndexError):
                    pass
                time.sleep(0.05)
        finally:
            stop(p, signal.SIGKILL)
    shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)
    if p.returncode != 0:
        raise RuntimeError(f"synmill-gen {tag} exited {p.returncode}:\n{open(err_path).read()[-3000:]}")
    with open(out_path) as f:
        lines = [line for line in f.read().splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"synmill-gen {tag}: no JSON result:\n{open(err_path).read()[-3000:]}")
    return json.loads(lines[-1]), utime, time.monotonic() - t0


class KernelPeer:
    """A namespace holding the kernel side of a tap that synmill-gen drives,
    with kernel_server listening on SERVER_IP inside it."""

    def __init__(self, build, tag):
        self.ns = f"synmill-bench-{RUN_ID}-{tag}"
        self.tap = f"smb{RUN_ID % 100000}{tag[:4]}"[:15]
        self.build = build
        self.server = None
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        self.ns_run(["ip", "link", "set", "lo", "up"])
        for key in ("all", "default"):
            self.ns_run(["sysctl", "-q", "-w", f"net.ipv6.conf.{key}.disable_ipv6=1"], check=False)

    def ns_run(self, cmd, check=True):
        return subprocess.run(["ip", "netns", "exec", self.ns] + cmd, check=check, capture_output=True)

    def vdev(self):
        return f"--vdev=net_tap0,iface={self.tap}"

    def attach(self, gen, timeout=30):
        """Once the gen has started its port (its start line): move the tap
        in and address it. Moving it earlier makes the port's start fail."""
        wait_for_line(gen, " worker(s), ", timeout)
        subprocess.run(["ip", "link", "set", self.tap, "netns", self.ns], check=True)
        self.ns_run(["ip", "addr", "add", f"{SERVER_IP}/{PREFIX}", "dev", self.tap])
        self.ns_run(["ip", "link", "set", self.tap, "up"])
        # Flood sources (198.18.1.x) are on the link too: answer them directly.
        self.ns_run(["ip", "route", "add", "198.18.0.0/15", "dev", self.tap])

    def start_server(self, port, mode, seconds, request=0, response=0):
        cmd = ["ip", "netns", "exec", self.ns, os.path.join(self.build, "bench", "kernel_server"), "0.0.0.0",
               str(port), mode, str(seconds), str(request), str(response)]
        self.server = start(cmd, f"kernel-server-{self.ns}")
        wait_for_line(self.server, "listening", 10)

    def close(self):
        if self.server is not None:
            stop(self.server, signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", self.ns], check=False)
