"""The Linux kernel as the second stack of the differential suite (diff.py).

The runner (conformance.py, outside) creates a second network namespace
LINUX_NS and a veth pair: one end (LINUX_VETH) sits in the conformance
namespace with no address (so that namespace's kernel stays silent and scapy
is the only peer, as on synmill's tap), the other end in LINUX_NS holds
synmill's address 198.18.0.2/24. kernel_apps.py runs there: the same
applications as synmill's, as kernel-socket servers. Linux's state comes from
`ss -tan` in LINUX_NS.

The kernel is set up to be comparable (setup_namespace, from outside):
timestamps, SACK and window scaling on (defaults), ECN off (synmill has
none), no metrics cache between connections, RACK and tail-loss probes off
(tcp_recovery 0, tcp_early_retrans 0: RFC 8985, which synmill does not
implement), the out-of-window ACK and challenge-ACK rate limits off
(per-socket 500 ms / 1000 per second would hide replies to back-to-back
probes), and the route's rto_min raised to 20 s like synmill's --rto-min in
the state-table groups (set_rto_min) so that no retransmission lands inside a
case; SYN and SYN-ACK retransmissions (fixed 1 s in Linux) are filtered by
the comparison instead (see diff.normalise).
"""
import os
import subprocess
import time

from peer import FAMILY, PREFIX, SYNMILL_IP, SYNMILL_IP4, Net, record

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"

SYSCTLS = {
    "net.ipv4.tcp_ecn": "0",
    "net.ipv4.tcp_no_metrics_save": "1",
    "net.ipv4.tcp_recovery": "0",
    "net.ipv4.tcp_early_retrans": "0",
    "net.ipv4.tcp_invalid_ratelimit": "0",
    "net.ipv4.tcp_challenge_ack_limit": "1000000",
    "net.ipv4.tcp_syncookies": "0",
    "net.ipv4.tcp_timestamps": "1",
    "net.ipv4.tcp_sack": "1",
    "net.ipv4.tcp_dsack": "1",
    "net.ipv4.tcp_window_scaling": "1",
    "net.ipv4.tcp_slow_start_after_idle": "0",
    "net.ipv4.tcp_autocorking": "0",
    "net.ipv4.tcp_fin_timeout": "60",
    "net.ipv4.tcp_rfc1337": "1",   # synmill's default --time-wait-rst ignore (RFC 1337)
}

SS_STATES = {"ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RCVD", "FIN-WAIT-1": "FIN_WAIT_1",
             "FIN-WAIT-2": "FIN_WAIT_2", "TIME-WAIT": "TIME_WAIT", "CLOSE": "CLOSED", "CLOSE-WAIT": "CLOSE_WAIT",
             "LAST-ACK": "LAST_ACK", "LISTEN": "LISTEN", "CLOSING": "CLOSING", "UNCONN": "CLOSED"}


def run(cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def setup_namespace(conf_ns, linux_ns, veth_here, veth_there):
    """From the root namespace: LINUX_NS with the veth pair (called by conformance.py outside)."""
    run(["ip", "netns", "add", linux_ns])
    run(["ip", "link", "add", veth_here, "type", "veth", "peer", "name", veth_there])
    run(["ip", "link", "set", veth_here, "netns", conf_ns])
    run(["ip", "link", "set", veth_there, "netns", linux_ns])
    x = ["ip", "netns", "exec", linux_ns]
    # IPv6 (--family 6): on, without duplicate address detection, router solicitations or RAs; the
    # net.ipv4.tcp_* sysctls below govern TCP over IPv6 too.
    ipv6 = {"disable_ipv6": 0, "accept_dad": 0, "accept_ra": 0, "router_solicitations": 0} if FAMILY == 6 else \
        {"disable_ipv6": 1}
    for key in ("all", "default", veth_there):
        for k, v in ipv6.items():
            run(x + ["sysctl", "-q", "-w", f"net.ipv6.conf.{key}.{k}={v}"], check=False)
    for k, v in SYSCTLS.items():
        run(x + ["sysctl", "-q", "-w", f"{k}={v}"], check=False)
    run(x + ["ip", "link", "set", "lo", "up"])
    run(x + ["ip", "addr", "add", f"{SYNMILL_IP4}/24", "dev", veth_there])
    if FAMILY == 6:  # dual stack, as synmill
        run(x + ["ip", "-6", "addr", "add", f"{SYNMILL_IP}/{PREFIX}", "dev", veth_there, "nodad"])
    run(x + ["ip", "link", "set", veth_there, "up"])
    run(["ip", "netns", "exec", conf_ns, "ip", "link", "set", veth_here, "up"])
    set_rto_min(linux_ns, veth_there, 20000)


def set_rto_min(linux_ns, veth_there, ms):
    """rto_min on the route toward the peer (iproute2 locks it, as tcp_rto_min() wants) and, where the
    kernel has it (6.11 and later), net.ipv4.tcp_rto_min_us, which new sockets start from."""
    run(["ip", "netns", "exec", linux_ns, "sysctl", "-q", "-w", f"net.ipv4.tcp_rto_min_us={ms * 1000}"],
        check=False)
    run(["ip", "netns", "exec", linux_ns, "ip", "route", "replace", "198.18.0.0/24", "dev", veth_there,
         "proto", "kernel", "scope", "link", "src", SYNMILL_IP4, "rto_min", f"{ms}ms"])
    if FAMILY == 6:
        run(["ip", "netns", "exec", linux_ns, "ip", "-6", "route", "replace", "2001:2::/64", "dev", veth_there,
             "proto", "kernel", "metric", "256", "rto_min", f"{ms}ms"])


class Linux:
    """kernel_apps.py in LINUX_NS, reached over the veth; same interface as peer.Synmill where
    the differential suite needs it (net, states_of)."""

    name = "linux"

    def __init__(self, tag, listen, connect=None, rto_min_ms=20000, logdir="/tmp"):
        self.ns = os.environ["SYNMILL_CONF_LINUX_NS"]
        self.veth = os.environ["SYNMILL_CONF_LINUX_VETH"]
        self.veth_there = os.environ["SYNMILL_CONF_LINUX_VETH_PEER"]
        self.log = os.path.join(logdir, f"linux-{tag}.log")
        self.cmd = ["ip", "netns", "exec", self.ns, PYTHON, os.path.join(HERE, "kernel_apps.py"),
                    "--listen", listen, "--family", str(FAMILY)]
        if connect:
            self.cmd += ["--connect", connect]
        self.rto_min_ms = rto_min_ms
        self.proc = None
        self.net = None

    def start(self):
        set_rto_min(self.ns, self.veth_there, self.rto_min_ms)
        self.net = Net(self.veth)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        record("pid", self.proc.pid)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with open(self.log, "rb") as f:
                if b"kernel_apps: ready" in f.read():
                    break
            if self.proc.poll() is not None:
                raise RuntimeError(f"kernel_apps exited (rc {self.proc.returncode}); see {self.log}")
            time.sleep(0.05)
        else:
            raise RuntimeError(f"kernel_apps not ready in 20 s; see {self.log}")
        self.net.resolve()
        if FAMILY == 6:
            # Our NS left Linux a neighbour entry for the peer (from its source link-layer option):
            # forget it, so that Linux resolves the peer by its own NS, which peer.py must answer.
            run(["ip", "netns", "exec", self.ns, "ip", "-6", "neigh", "flush", "dev", self.veth_there], check=False)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.net:
            self.net.close()
            self.net = None

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def states_of(self, tuples):
        """{(peer port, our port): state} from one `ss -tan` in LINUX_NS; CLOSED when absent."""
        out = run(["ip", "netns", "exec", self.ns, "ss", "-tanH", "state", "all"], check=False).stdout
        seen = {}
        for line in out.splitlines():
            f = line.split()
            if len(f) < 5:
                continue
            state, local, remote = f[0], f[3], f[4]
            lp = local.rsplit(":", 1)[-1]
            rp = remote.rsplit(":", 1)[-1]
            if not (lp.isdigit() and rp.isdigit()):
                continue
            seen[(int(rp), int(lp))] = SS_STATES.get(state, state)
        return {t: seen.get(t, "CLOSED") for t in tuples}
