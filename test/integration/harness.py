"""Fixtures for the integration suite: a network namespace whose kernel TCP is
synmill's peer over a net_tap interface.

    with SynmillEnv(listen="80:http,7:echo") as env:
        env.ns_run(["curl", "-s", "http://198.18.0.2/"])
        env.stats()["established"]

Everything a test creates (namespace, synmill process, its tap, its DPDK
runtime directory) has a name unique to this run and is removed on success
and on failure. Processes are stopped by PID only.

Network rules (shared/DESIGN.md): traffic stays inside the namespace created
here; addresses come from 198.18.0.0/15 only.
"""
import atexit
import fcntl
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PYTHON = "/usr/bin/python3"  # Debian's Python: has scapy; the first python3 on PATH may not
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NSCLIENT = os.path.join(HERE, "nsclient.py")

SYNMILL_IP = "198.18.0.2"
PEER_IP = "198.18.0.1"
PREFIX_LEN = 24
# IPv6 (SynmillEnv(ipv6=True)): from the benchmarking range 2001:2::/48 only.
SYNMILL_IP6 = "2001:2::1"
PEER_IP6 = "2001:2::2"
PREFIX_LEN6 = 64
HTTP_BODY = b"Hello from synmill\n"

READY_LINE = "synmill: ready"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0

_counter = itertools.count(1)
_RUN_ID = os.getpid()

# Environments alive now, and every one started (for the runner's failure report).
LIVE = []
STARTED = []


def build_dir():
    d = os.environ.get("SYNMILL_BUILD", os.path.join(REPO, "build"))
    return os.path.abspath(d)


def synmill_binary():
    return os.path.join(build_dir(), "apps", "synmill")


def log_dir():
    d = os.environ.get("SYNMILL_IT_LOGDIR")
    if not d:
        d = tempfile.mkdtemp(prefix="synmill-it-logs-")
        os.environ["SYNMILL_IT_LOGDIR"] = d
    os.makedirs(d, exist_ok=True)
    return d


def run(cmd, check=True, timeout=60, **kw):
    """subprocess.run with a bound and captured text output."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    p = subprocess.run(cmd, timeout=timeout, **kw)
    if check and p.returncode != 0:
        out = p.stdout.decode(errors="replace") if isinstance(p.stdout, bytes) else p.stdout
        err = p.stderr.decode(errors="replace") if isinstance(p.stderr, bytes) else p.stderr
        raise RuntimeError(f"command failed (rc {p.returncode}): {' '.join(cmd)}\n"
                           f"stdout: {out}\nstderr: {err}")
    return p


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return f"(no log: {e})"
    text = data.decode(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Polls pred() until it returns a truthy value; returns it. Bounded."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


# ---------------------------------------------------------------------------
# DPDK telemetry (v2 socket: SOCK_SEQPACKET, greeting JSON, one reply per command)

sys.path.insert(0, os.path.join(REPO, "scripts"))
from synmill_telemetry import Telemetry  # noqa: E402  (shared with bench/)


# ---------------------------------------------------------------------------
# Hugepages (for the one run with hugepages; restores what it changed)

class HugepagesUnavailable(Exception):
    """The kernel would not give the pages (memory short or fragmented)."""


class Hugepages:
    """Reserves `pages` 2 MiB hugepages and a hugetlbfs mount; undoes both."""

    NR = "/proc/sys/vm/nr_hugepages"
    LOCK = "/run/lock/synmill-it-hugepages.lock"  # serializes concurrent suite runs
    LOCK_WAIT_S = 300

    def __init__(self, pages=512, mountpoint="/dev/hugepages"):
        self.pages = pages
        self.mountpoint = mountpoint
        self.orig_nr = None
        self.mounted_by_us = False
        self.created_dir = False
        self.dir = None
        self.lock_fd = None

    @staticmethod
    def _meminfo(key):
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    @staticmethod
    def _hugetlbfs_mount():
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[2] == "hugetlbfs":
                    return parts[1]
        return None

    @classmethod
    def possible(cls):
        return os.geteuid() == 0 and os.access(cls.NR, os.W_OK)

    def _lock(self):
        os.makedirs(os.path.dirname(self.LOCK), exist_ok=True)
        self.lock_fd = os.open(self.LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.lock_fd)
                    self.lock_fd = None
                    raise HugepagesUnavailable("another run holds the hugepage test lock")
                time.sleep(0.5)

    def __enter__(self):
        self._lock()
        try:
            free = self._meminfo("HugePages_Free")
            if free < self.pages:
                with open(self.NR) as f:
                    self.orig_nr = int(f.read().strip())
                want = self.orig_nr + (self.pages - free)
                with open(self.NR, "w") as f:
                    f.write(str(want))
                got = self._meminfo("HugePages_Free")
                if got < self.pages:
                    raise HugepagesUnavailable(f"asked the kernel for {want} hugepages; {got} free")
            existing = self._hugetlbfs_mount()
            if existing:
                self.dir = existing
            else:
                if not os.path.isdir(self.mountpoint):
                    os.makedirs(self.mountpoint)
                    self.created_dir = True
                run(["mount", "-t", "hugetlbfs", "nodev", self.mountpoint])
                self.mounted_by_us = True
                self.dir = self.mountpoint
        except BaseException:
            self.restore()
            raise
        return self

    def restore(self):
        if self.mounted_by_us:
            p = run(["umount", self.mountpoint], check=False)
            if p.returncode != 0:
                print(f"warning: could not unmount {self.mountpoint}: {p.stderr.decode().strip()}",
                      file=sys.stderr)
            elif self.created_dir:
                try:
                    os.rmdir(self.mountpoint)
                except OSError:
                    pass
            self.mounted_by_us = False
        if self.orig_nr is not None:
            with open(self.NR, "w") as f:
                f.write(str(self.orig_nr))
            self.orig_nr = None
        if self.lock_fd is not None:
            os.close(self.lock_fd)  # releases the flock
            self.lock_fd = None

    def __exit__(self, *exc):
        self.restore()
        return False


# ---------------------------------------------------------------------------
# The environment: namespace + synmill on a tap moved into it

class SynmillEnv:
    """A network namespace holding the kernel side of synmill's tap.

    listen: the --listen value; extra: further synmill options (list);
    huge_dir: None for --no-huge (the default), else a hugetlbfs mount to use;
    lcores: the EAL's core options (default one lcore: worker on the main lcore);
    binary: the synmill to run, or another program built on synmill::run
    (default: the build's synmill); cwd: its working directory;
    app_tail: the program's own arguments, after a second "--"; listen=None: no --listen;
    config_template: a config file whose eal/addr/listen lines are replaced by
    this environment's; synmill then starts as the service does,
    `synmill -- --config FILE`, with everything in the file.
    """

    def __init__(self, listen="80:http,7:echo,9:discard,8000:send:1048576", extra=(),
                 huge_dir=None, name=None, lcores=("-l", "0"), bridge=False, impair=None,
                 binary=None, cwd=None, config_template=None, huge_unlink=True, app_tail=(), ipv6=False,
                 before_start=None):
        n = next(_counter)
        self.tag = f"{_RUN_ID}-{n}"
        self.ns = f"synmill-it-{self.tag}"
        self.tap = f"smt{_RUN_ID}x{n % 1000}"  # pid <= 7 digits (pid_max 4194304): <= 14 chars
        assert len(self.tap) <= 15
        self.file_prefix = f"synmill-it-{self.tag}"
        self.listen = listen
        self.extra = list(extra)
        self.huge_dir = huge_dir
        self.lcores = list(lcores)
        self.bridge = "smbr0" if bridge else None  # the kernel's address on a bridge the tap joins
        # (loss %, delay ms, reorder %): impair.py relays between the tap and a
        # kernel-side tap that holds the kernel's address (a userspace netem).
        self.impair = impair
        self.impair_proc = None
        self.name = name or self.ns
        self.log_path = os.path.join(log_dir(), f"synmill-{self.tag}.log")
        self.proc = None
        self.ns_created = False
        self.exit_code = None
        self.telemetry = Telemetry(self.file_prefix)
        self.eal_args = None
        self.app_args = None
        self.binary = binary
        self.cwd = cwd
        self.config_template = config_template
        self.config_path = None
        # --huge-unlink leaves no hugepage file a secondary process (dpdk-dumpcap) could map
        self.huge_unlink = huge_unlink
        self.app_tail = list(app_tail)
        # Dual stack: synmill also gets SYNMILL_IP6, the namespace PEER_IP6
        # (duplicate address detection and router solicitations off).
        self.ipv6 = ipv6
        # Called with this env once the namespace exists, before synmill
        # starts: a peer that must be listening before synmill's first SYN.
        self.before_start = before_start

    # -- lifecycle --------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException as e:
            log = tail(self.log_path)
            self.stop()
            if isinstance(e, Exception):
                raise RuntimeError(f"{self.name}: set-up failed: {e}\n--- synmill log tail "
                                   f"({self.log_path}) ---\n{log}") from e
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        # The runner prints the log tail of a failed test's instances.
        self.stop()
        return False

    def start(self):
        binary = self.binary or synmill_binary()
        if not os.access(binary, os.X_OK):
            raise RuntimeError(f"no synmill binary at {binary}")
        LIVE.append(self)
        STARTED.append(self)
        # The namespace first: no IPv6 chatter on the tap once it arrives.
        run(["ip", "netns", "add", self.ns])
        self.ns_created = True
        for key in ("all", "default"):
            if self.ipv6:
                for k, v in (("disable_ipv6", 0), ("accept_dad", 0), ("accept_ra", 0), ("router_solicitations", 0)):
                    self.ns_run(["sysctl", "-q", "-w", f"net.ipv6.conf.{key}.{k}={v}"], check=False)
            else:
                self.ns_run(["sysctl", "-q", "-w", f"net.ipv6.conf.{key}.disable_ipv6=1"], check=False)
        self.ns_run(["ip", "link", "set", "lo", "up"])
        if self.before_start is not None:
            self.before_start(self)

        eal = self.lcores + ["--no-pci", "--file-prefix", self.file_prefix, f"--vdev=net_tap0,iface={self.tap}"]
        if self.huge_dir is None:
            eal += ["--no-huge", "-m", "1024"]
        else:
            eal += ["--huge-dir", self.huge_dir] + (["--huge-unlink"] if self.huge_unlink else [])
        app = ["--addr", f"{SYNMILL_IP}/{PREFIX_LEN}"] + (["--listen", self.listen] if self.listen else []) + self.extra
        if self.ipv6:
            app += ["--addr", f"{SYNMILL_IP6}/{PREFIX_LEN6}"]
        if self.app_tail:
            app += ["--"] + self.app_tail
        self.eal_args, self.app_args = eal, app
        argv = [binary] + eal + ["--"] + app
        if self.config_template:
            self.config_path = os.path.join(log_dir(), f"synmill-{self.tag}.conf")
            with open(self.config_template) as f:
                ours = {"eal", "addr", "listen"} | {a[2:] for a in self.extra[::2]}
                lines = [ln for ln in f.read().split("\n") if ln.split("=")[0].strip() not in ours]
            lines += [f"eal = {' '.join(eal)}", f"addr = {SYNMILL_IP}/{PREFIX_LEN}", f"listen = {self.listen}"]
            lines += [f"{a[2:]} = {b}" for a, b in zip(self.extra[::2], self.extra[1::2])]
            with open(self.config_path, "w") as f:
                f.write("\n".join(lines) + "\n")
            argv = [binary, "--", "--config", self.config_path]
        with open(self.log_path, "wb") as log:
            log.write(f"$ (cwd {self.cwd or os.getcwd()}) {' '.join(argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, cwd=self.cwd,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self._wait_ready()
        # The tap exists in our namespace now; hand it to the test namespace.
        wait_until(lambda: os.path.exists(f"/sys/class/net/{self.tap}"), 5, what=f"tap {self.tap}")
        run(["ip", "link", "set", self.tap, "netns", self.ns])
        if self.impair:
            self.ns_run(["ip", "link", "set", self.tap, "up"])
            loss, delay, reorder = self.impair
            self.impair_proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns, PYTHON, os.path.join(HERE, "impair.py"), self.tap, "kimp0",
                 str(loss), str(delay), str(reorder), "3600"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True)
            line = self.impair_proc.stdout.readline()
            if b"ready" not in line:
                raise RuntimeError(f"impair.py did not start: {self.impair_proc.stderr.read()[-1000:]!r}")
            self.ns_run(["ip", "addr", "add", f"{PEER_IP}/{PREFIX_LEN}", "dev", "kimp0"])
            self.ns_run(["ip", "link", "set", "kimp0", "up"])
        elif self.bridge:
            self.ns_run(["ip", "link", "add", self.bridge, "type", "bridge"])
            self.ns_run(["ip", "addr", "add", f"{PEER_IP}/{PREFIX_LEN}", "dev", self.bridge])
            self.ns_run(["ip", "link", "set", self.bridge, "up"])
            self.join_bridge(self.tap)
        else:
            self.ns_run(["ip", "addr", "add", f"{PEER_IP}/{PREFIX_LEN}", "dev", self.tap])
            if self.ipv6:
                self.ns_run(["ip", "-6", "addr", "add", f"{PEER_IP6}/{PREFIX_LEN6}", "dev", self.tap, "nodad"])
            self.ns_run(["ip", "link", "set", self.tap, "up"])
        wait_until(self.telemetry.available, 10, what="telemetry socket")

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                if READY_LINE.encode() in f.read():
                    return
            if self.proc.poll() is not None:
                raise RuntimeError(f"synmill exited with rc {self.proc.returncode} before '{READY_LINE}'")
            time.sleep(0.05)
        raise RuntimeError(f"no '{READY_LINE}' within {READY_TIMEOUT_S:.0f}s")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        """Stops synmill (by PID), deletes the namespace and DPDK runtime dir.
        Returns synmill's exit code (negative: killed by that signal)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    self.proc.send_signal(sig)
                    self.proc.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    with open(self.log_path, "ab") as log:
                        log.write(b"\n[harness] no exit within the stop timeout: SIGKILL\n")
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            self.exit_code = self.proc.returncode
            self.proc = None
        if self.impair_proc is not None:
            self.impair_proc.terminate()
            try:
                self.impair_proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.impair_proc.kill()
                self.impair_proc.wait()
            self.impair_proc = None
        if self.ns_created:
            run(["ip", "netns", "del", self.ns], check=False)
            self.ns_created = False
        shutil.rmtree(os.path.join("/var/run/dpdk", self.file_prefix), ignore_errors=True)
        if self in LIVE:
            LIVE.remove(self)
        return self.exit_code

    def join_bridge(self, iface):
        """Moves `iface` (from our namespace, if still there) onto the bridge."""
        if os.path.exists(f"/sys/class/net/{iface}"):
            run(["ip", "link", "set", iface, "netns", self.ns])
        # net_tap gives the kernel interface the DPDK port's MAC; a bridge takes
        # its ports' MACs as its own and would deliver frames for the DPDK
        # side to the host. Another MAC on the kernel side keeps them apart.
        mac = "02:53:4d:" + ":".join(f"{b:02x}" for b in os.urandom(3))
        self.ns_run(["ip", "link", "set", iface, "address", mac])
        self.ns_run(["ip", "link", "set", iface, "master", self.bridge])
        self.ns_run(["ip", "link", "set", iface, "up"])

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    # -- the namespace ----------------------------------------------------

    def ns_run(self, cmd, check=True, timeout=60, **kw):
        return run(["ip", "netns", "exec", self.ns] + list(cmd), check=check, timeout=timeout, **kw)

    def client(self, action, timeout=120, **params):
        """Runs nsclient.py ACTION inside the namespace; returns its JSON result."""
        p = self.ns_run([PYTHON, NSCLIENT, action, json.dumps(params)], check=False, timeout=timeout)
        out = p.stdout.decode(errors="replace")
        if p.returncode != 0:
            raise AssertionError(f"nsclient {action} failed (rc {p.returncode}):\n{out[-2000:]}\n"
                                 f"{p.stderr.decode(errors='replace')[-3000:]}")
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError) as e:
            raise AssertionError(f"nsclient {action}: no JSON result: {out[-2000:]!r}") from e

    def client_popen(self, action, **params):
        """nsclient.py ACTION in the namespace, running: pipes on stdin/stdout."""
        return subprocess.Popen(["ip", "netns", "exec", self.ns, PYTHON, NSCLIENT, action,
                                 json.dumps(params)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def kernel_tcp(self, state):
        """ss -tan state STATE in the namespace: set of (local, peer) address strings."""
        p = self.ns_run(["ss", "-Htan", "state", state])
        rows = set()
        for line in p.stdout.decode().splitlines():
            parts = line.split()
            # -H with a state filter: Recv-Q Send-Q Local Peer
            if len(parts) >= 4:
                rows.add((parts[-2], parts[-1]))
        return rows

    def tap_stats(self):
        """The kernel side's interface counters (rx/tx packets and bytes)."""
        p = self.ns_run(["ip", "-s", "-j", "link", "show", self.tap])
        st = json.loads(p.stdout.decode())[0]["stats64"]
        return {"rx_packets": st["rx"]["packets"], "rx_bytes": st["rx"]["bytes"],
                "tx_packets": st["tx"]["packets"], "tx_bytes": st["tx"]["bytes"]}

    # -- synmill's view ---------------------------------------------------

    def stats(self):
        s = self.telemetry.query("/synmill/stats")
        if not isinstance(s, dict):
            raise AssertionError(f"/synmill/stats: not a dict: {s!r}")
        return s

    def states(self):
        s = self.telemetry.query("/synmill/states")
        if not isinstance(s, dict):
            raise AssertionError(f"/synmill/states: not a dict: {s!r}")
        return s

    def conns(self, n=1000):
        return self.telemetry.query(f"/synmill/conns,{n}")

    def conn_rows(self, peer, local, n=1000):
        """Rows of /synmill/conns for one 4-tuple ("198.18.0.1:PORT", "198.18.0.2:PORT").
        Accepts rows as dicts or as arrays of values (a first row naming the columns)."""
        rows = self.conns(n)
        if not isinstance(rows, list):
            raise AssertionError(f"/synmill/conns: not a list: {rows!r}")
        hits = []
        for row in rows:
            values = list(row.values()) if isinstance(row, dict) else list(row)
            values = [str(v) for v in values]
            if peer in values and local in values:
                hits.append(row)
        return hits


# Connection states other than LISTEN / CLOSED that mean "a connection is here".
OPEN_STATES = ("SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
               "CLOSING", "LAST_ACK")


def open_count(states):
    return sum(int(states.get(s, 0)) for s in OPEN_STATES)


def delta(after, before, key):
    return int(after.get(key, 0)) - int(before.get(key, 0))


def pattern(offset, n):
    """The send:N app's bytes offset..offset+n: ((i*7 + (i>>8)) & 0xff)."""
    return bytes(((i * 7 + (i >> 8)) & 0xFF) for i in range(offset, offset + n))


@atexit.register
def _cleanup_all():
    for env in list(LIVE):
        try:
            env.stop()
        except Exception as e:  # keep cleaning the rest
            print(f"cleanup of {env.ns} failed: {e}", file=sys.stderr)


# ---------------------------------------------------------------------------
# Base test case: one synmill + namespace per test class, a bound per test.

import unittest  # noqa: E402


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test exceeded its time bound")


class SynmillCase(unittest.TestCase):
    LISTEN = "80:http,7:echo,9:discard,8000:send:1048576"
    EXTRA = ("--grace", "1")
    HUGE_DIR = None
    LCORES = ("-l", "0")
    BRIDGE = False
    IMPAIR = None
    BINARY = None    # a program built on synmill::run instead of synmill
    APP_TAIL = ()    # its arguments after the second "--"
    TIMEOUT_S = 120  # per test method
    IPV6 = False     # dual stack: SynmillEnv(ipv6=True)
    env = None

    @classmethod
    def setUpClass(cls):
        cls.env = cls.enterClassContext(SynmillEnv(cls.LISTEN, cls.EXTRA, huge_dir=cls.HUGE_DIR,
                                                   name=cls.__name__, lcores=cls.LCORES,
                                                   bridge=cls.BRIDGE, impair=cls.IMPAIR,
                                                   binary=cls.BINARY, app_tail=cls.APP_TAIL,
                                                   ipv6=cls.IPV6, before_start=cls.before_start))

    @classmethod
    def before_start(cls, env):
        """Runs in the new namespace before synmill starts (SynmillEnv.before_start)."""

    @classmethod
    def tearDownClass(cls):
        # A clean SIGTERM shutdown is part of the contract: exit 0.
        env = cls.env
        died_before = not env.alive()
        rc = env.stop()
        if died_before:
            raise AssertionError(f"{cls.__name__}: synmill had already exited (rc {rc}); log tail:\n"
                                 f"{tail(env.log_path)}")
        if rc != 0:
            raise AssertionError(f"{cls.__name__}: synmill exited with rc {rc} after SIGTERM; log tail:\n"
                                 f"{tail(env.log_path)}")

    def setUp(self):
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(self.TIMEOUT_S)

    def tearDown(self):
        signal.alarm(0)
        if self.env is not None and self.env.proc is not None and not self.env.alive():
            raise AssertionError(f"synmill died during the test (rc {self.env.proc.returncode})")

    # helpers
    def wait_states(self, pred, timeout=10, what="synmill states"):
        """Polls /synmill/states until pred(states); returns those states."""
        seen = [None]

        def probe():
            s = seen[0] = self.env.states()
            return [s] if pred(s) else None
        try:
            return wait_until(probe, timeout, interval=0.1, what=what)[0]
        except AssertionError as e:
            raise AssertionError(f"{e}; last states: {seen[0]}") from None

    def wait_quiet(self, timeout=10, time_wait_too=False):
        """Until synmill has no open connection (and, optionally, no TIME_WAIT)."""
        def quiet(s):
            return open_count(s) == 0 and (not time_wait_too or int(s.get("TIME_WAIT", 0)) == 0)
        return self.wait_states(quiet, timeout, what="no open connections in synmill")
