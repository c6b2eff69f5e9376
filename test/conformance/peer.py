"""The packet-level peer for the conformance suite, run INSIDE the network
namespace the runner created (conformance.py): synmill processes started
here create their tap in this namespace; the kernel side of each tap holds no
address (IPv6 off), so the kernel stays silent and this code is synmill's only
peer. It answers synmill's ARP (IPv4) or Neighbor Solicitations (IPv6) itself.

Frames are built and dissected with scapy; they go through an AF_PACKET
socket bound to the tap (outgoing copies are skipped). Telemetry goes over
the DPDK v2 unix socket (a filesystem path: reachable from any namespace).

Address family: SYNMILL_CONF_FAMILY=6 in the environment runs the table over
IPv6 (conformance.py --family 6). IPv4: synmill 198.18.0.2/24, this peer
198.18.0.1 (198.18.0.0/15 only). IPv6: synmill 2001:2::2/64 and also
198.18.0.2/24 (one dual-stack process, one listener for both families), this
peer 2001:2::1 (2001:2::/48 only, RFC 5180); frames are IPv6()/TCP(), the
peer's MSS is MTU - 60 (RFC 8200 §5 / RFC 9293 §3.7.1: 1500 - 40 - 20).
"""
import os
import select
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
try:  # main moves the telemetry client to scripts/synmill_telemetry.py; before that it is in harness.py
    sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
    from synmill_telemetry import Telemetry  # noqa: E402
except ImportError:
    sys.path.insert(0, os.path.join(HERE, "..", "integration"))
    from harness import Telemetry  # noqa: E402

from scapy.all import ARP, IP, TCP, Ether, Raw, raw  # noqa: E402,F401
from scapy.config import conf  # noqa: E402
from scapy.layers.inet6 import (ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr,  # noqa: E402,F401
                                ICMPv6NDOptSrcLLAddr, IPv6)

conf.verb = 0

FAMILY = 6 if os.environ.get("SYNMILL_CONF_FAMILY") == "6" else 4
SYNMILL_IP4, PREFIX4 = "198.18.0.2", 24
if FAMILY == 6:
    SYNMILL_IP, PEER_IP, PREFIX = "2001:2::2", "2001:2::1", 64
    MSS = 1440  # what this peer offers: MTU 1500 - 40 (IPv6 header) - 20 (TCP header)
else:
    SYNMILL_IP, PEER_IP, PREFIX = SYNMILL_IP4, "198.18.0.1", PREFIX4
    MSS = 1460  # 1500 - 20 - 20
SYNMILL_MSS = MSS  # what synmill offers on the tap (MTU 1500): MTU - 40 over IPv4, MTU - 60 over IPv6
PEER_MAC = "02:00:c6:12:00:01"
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35  # = SCM_TIMESTAMPNS (asm-generic/socket.h)
READY = b"synmill: ready"

PIDFILE = os.environ.get("SYNMILL_CONF_PIDFILE")


def addr_args():
    """synmill's --addr values: IPv4 alone, or dual stack for the IPv6 table."""
    if FAMILY == 6:
        return ["--addr", f"{SYNMILL_IP4}/{PREFIX4}", "--addr", f"{SYNMILL_IP}/{PREFIX}"]
    return ["--addr", f"{SYNMILL_IP}/{PREFIX}"]


def endpoint(ip, port):
    """ADDR:PORT as synmill's telemetry writes it ([ADDR]:PORT for IPv6)."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def ip_layer(src=None, dst=None, ttl=64, **kw):
    """The network layer of this run's family: IP(ttl=) or IPv6(hlim=)."""
    src = PEER_IP if src is None else src
    dst = SYNMILL_IP if dst is None else dst
    if FAMILY == 6:
        return IPv6(src=src, dst=dst, hlim=ttl, **kw)
    return IP(src=src, dst=dst, ttl=ttl, **kw)


def solicited_node(ip):
    """RFC 4291 §2.7.1: ff02::1:ffXX:XXXX and its MAC 33:33:ff:XX:XX:XX (RFC 2464 §7)."""
    low = socket.inet_pton(socket.AF_INET6, ip)[13:]
    return (socket.inet_ntop(socket.AF_INET6, bytes.fromhex("ff0200000000000000000001ff") + low),
            "33:33:ff:" + ":".join(f"{b:02x}" for b in low))


def record(kind, value):
    """Tells the runner outside what to clean up if this process dies: 'pid N', 'prefix NAME'."""
    if PIDFILE:
        with open(PIDFILE, "a") as f:
            f.write(f"{kind} {value}\n")


class Synmill:
    """One synmill on its own tap in this namespace."""

    def __init__(self, binary, tag, listen, extra=(), logdir="/tmp"):
        self.tap = f"smc{os.getpid() % 100000}{tag}"[:15]
        self.prefix = f"synmill-conf-{os.getpid()}-{tag}"
        self.log = os.path.join(logdir, f"synmill-conf-{tag}.log")
        self.cmd = [binary, "-l", "0", "--no-pci", "--no-huge", "-m", "1024", "--file-prefix", self.prefix,
                    f"--vdev=net_tap0,iface={self.tap}", "--"] + addr_args() + [
                    "--listen", listen, "--status-interval", "0", "--grace", "0"] + list(extra)
        self.proc = None
        self.tel = Telemetry(self.prefix)
        self.net = None

    def start(self):
        record("prefix", self.prefix)
        with open(self.log, "wb") as log:
            log.write(("$ " + " ".join(self.cmd) + "\n").encode())
            log.flush()
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        record("pid", self.proc.pid)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(self.log, "rb") as f:
                if READY in f.read():
                    break
            if self.proc.poll() is not None:
                raise RuntimeError(f"synmill exited (rc {self.proc.returncode}); see {self.log}")
            time.sleep(0.05)
        else:
            raise RuntimeError(f"synmill not ready in 30 s; see {self.log}")
        subprocess.run(["ip", "link", "set", self.tap, "up"], check=True)
        deadline = time.monotonic() + 10
        while not self.tel.available():
            if time.monotonic() > deadline:
                raise RuntimeError("no telemetry socket")
            time.sleep(0.05)
        self.net = Net(self.tap)
        self.net.resolve()
        return self

    def stop(self):
        if self.net:
            self.net.close()
            self.net = None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        rc = self.proc.returncode if self.proc else None
        subprocess.run(["rm", "-rf", f"/var/run/dpdk/{self.prefix}"], check=False)
        return rc

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
        return False

    # telemetry
    def stats(self):
        return {k: int(v) for k, v in self.tel.query("/synmill/stats").items()}

    def states(self):
        return {k: int(v) for k, v in self.tel.query("/synmill/states").items()}

    def state(self, sport, dport):
        return self.tel.query(f"/synmill/state,{endpoint(SYNMILL_IP, dport)},{endpoint(PEER_IP, sport)}")["state"]

    def conn_row(self, sport, dport):
        rows = self.tel.query("/synmill/conns,1000")
        cols = rows[0]
        for r in rows[1:]:
            d = dict(zip(cols, r))
            if d["local"] == endpoint(SYNMILL_IP, dport) and d["remote"] == endpoint(PEER_IP, sport):
                return d
        return None


class Net:
    """AF_PACKET on the tap: sends frames, collects synmill's TCP segments by
    our port, answers ARP."""

    def __init__(self, iface):
        self.iface = iface
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.bind((iface, 0))
        self.s.setblocking(False)
        # Kernel receive times (CLOCK_REALTIME) on every frame: t.time_rx (the differential suite
        # tells replies from timer retransmissions by them).
        self.s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.rx_time = None
        self.synmill_mac = None
        self.ns_seen = 0    # Neighbor Solicitations from synmill for our address, answered
        self.by_port = {}   # our port -> [scapy TCP layer with .time_rx]
        self.frames = []    # every frame from synmill (Ether), in order

    def close(self):
        self.s.close()

    def send(self, frame):
        self.s.send(frame if isinstance(frame, (bytes, bytearray)) else raw(frame))

    def pump(self, timeout):
        """Reads what arrives within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                return
            while True:
                try:
                    data, anc, _, addr = self.s.recvmsg(65535, 64)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                self.rx_time = time.time()
                for level, kind, value in anc:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                        sec, nsec = struct.unpack("qq", value[:16])
                        self.rx_time = sec + nsec / 1e9
                self._frame(data)

    def _frame(self, data):
        e = Ether(data)
        if ARP in e:
            a = e[ARP]
            if a.op == 1 and a.pdst == PEER_IP:
                self.send(Ether(src=PEER_MAC, dst=a.hwsrc) /
                          ARP(op=2, hwsrc=PEER_MAC, psrc=PEER_IP, hwdst=a.hwsrc, pdst=a.psrc))
            elif a.op == 2 and a.psrc == SYNMILL_IP:
                self.synmill_mac = a.hwsrc
            return
        if ICMPv6ND_NS in e or ICMPv6ND_NA in e:
            self._nd(e)
            return
        self.frames.append(e)
        if IP in e and TCP in e and e[IP].src == SYNMILL_IP:
            t = e[TCP]
            # The TCP payload by the IP total length: Ethernet padding is not payload.
            n = max(0, e[IP].len - e[IP].ihl * 4 - t.dataofs * 4)
        elif IPv6 in e and TCP in e and e[IPv6].src == SYNMILL_IP:
            t = e[TCP]
            # By the payload length, less any extension headers before TCP (synmill sends none).
            ext = len(e[IPv6].payload) - len(t)
            n = max(0, e[IPv6].plen - ext - t.dataofs * 4)
        else:
            if os.environ.get("SYNMILL_CONF_DEBUG"):  # a frame from synmill this peer does not take apart
                print("DEBUG frame", data.hex(), flush=True)
            return
        t.data = bytes(t.payload)[:n]
        t.time_rx = self.rx_time
        self.by_port.setdefault(t.dport, []).append(t)

    def _nd(self, e):
        """Neighbor Discovery (RFC 4861) as a host on the link: an NS for our
        address gets a solicited NA with our MAC (§7.2.4; to all-nodes when
        the NS came from ::, duplicate address detection); synmill's NA for its
        address gives us its MAC (the target link-layer option, else the frame's
        source)."""
        ip = e[IPv6]
        if ICMPv6ND_NS in e:
            ns = e[ICMPv6ND_NS]
            if ns.tgt != PEER_IP or ip.hlim != 255:
                return
            self.ns_seen += 1
            unspec = ip.src == "::"
            self.send(Ether(src=PEER_MAC, dst="33:33:00:00:00:01" if unspec else e.src) /
                      IPv6(src=PEER_IP, dst="ff02::1" if unspec else ip.src, hlim=255) /
                      ICMPv6ND_NA(tgt=PEER_IP, R=0, S=0 if unspec else 1, O=1) /
                      ICMPv6NDOptDstLLAddr(lladdr=PEER_MAC))
            return
        na = e[ICMPv6ND_NA]
        if na.tgt == SYNMILL_IP and ip.hlim == 255:
            self.synmill_mac = e[ICMPv6NDOptDstLLAddr].lladdr if ICMPv6NDOptDstLLAddr in e else e.src

    def resolve(self, timeout=5):
        deadline = time.monotonic() + timeout
        while self.synmill_mac is None and time.monotonic() < deadline:
            if FAMILY == 6:  # RFC 4861 §7.2.2: to the target's solicited-node group, with our link-layer address
                group, group_mac = solicited_node(SYNMILL_IP)
                self.send(Ether(src=PEER_MAC, dst=group_mac) / IPv6(src=PEER_IP, dst=group, hlim=255) /
                          ICMPv6ND_NS(tgt=SYNMILL_IP) / ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC))
            else:
                self.send(Ether(src=PEER_MAC, dst="ff:ff:ff:ff:ff:ff") /
                          ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=SYNMILL_IP))
            self.pump(0.2)
        if self.synmill_mac is None:
            raise RuntimeError("synmill did not answer " + ("the Neighbor Solicitation" if FAMILY == 6 else "ARP"))

    def take(self, port):
        return self.by_port.pop(port, [])

    def peek(self, port):
        return self.by_port.get(port, [])

    def eth(self, src_mac=PEER_MAC, dst_mac=None):
        return Ether(src=src_mac, dst=dst_mac or self.synmill_mac)

    def tcp(self, sport, dport, flags, seq, ack=0, payload=b"", window=8192, options=None,
            src=PEER_IP, dst=SYNMILL_IP, ttl=64, **tcp_kw):
        p = ip_layer(src, dst, ttl) / TCP(sport=sport, dport=dport, flags=flags, seq=seq % (1 << 32),
                                                ack=ack % (1 << 32), window=window,
                                                options=options or [], **tcp_kw)
        if payload:
            p = p / Raw(payload)
        return self.eth() / p


def fl(t):
    """Flags of a scapy TCP layer as a string like 'SA', 'R', 'FA' (sorted: F S R P A)."""
    f = int(t.flags)
    return "".join(c for bit, c in ((0x01, "F"), (0x02, "S"), (0x04, "R"), (0x08, "P"), (0x10, "A")) if f & bit) or "-"


def describe(segs):
    if not segs:
        return "(nothing)"
    return " ".join(f"<{fl(t)} seq={t.seq} ack={t.ack} win={t.window} len={len(t.data)}>" for t in segs)


def seg_len(t):
    return len(t.data) + (1 if int(t.flags) & 0x02 else 0) + (1 if int(t.flags) & 0x01 else 0)


M32 = (1 << 32) - 1


def sgt(a, b):
    return 0 < ((a - b) & M32) < (1 << 31)


class Conn:
    """One connection as this peer sees it. snd_nxt: our next sequence number;
    their_nxt: synmill's SND.NXT (highest SEQ+LEN it sent); their_ack/their_win:
    the last ACK and window field synmill sent (its RCV.NXT; its RCV.WND is
    their_wnd, the field scaled when window scaling is on).

    ts=True: our SYN offers window scale 7, SACK-permitted and timestamps;
    every segment but an RST then carries a timestamp (TSval +1 each time,
    TSecr = synmill's last TSval), as RFC 7323 wants once negotiated."""

    def __init__(self, net, sport, dport, iss, ts=False):
        self.net, self.sport, self.dport = net, sport, dport
        self.iss = iss
        self.snd_nxt = iss
        self.ts = ts
        self.tsval = 1000
        self.their_ts = 0
        self.their_shift = 0  # synmill's window-scale shift, once both offered it
        self.their_iss = None
        self.their_nxt = None
        self.their_ack = None
        self.their_win = None
        self.their_wnd = None
        self.fin_seq = None   # sequence number of synmill's FIN, once seen
        self.seen = []

    def learn(self, segs):
        for t in segs:
            self.seen.append(t)
            f = int(t.flags)
            opts = dict((o[0], o[1]) for o in t.options if isinstance(o, tuple) and len(o) == 2)
            if "Timestamp" in opts:
                self.their_ts = opts["Timestamp"][0]
            if f & 0x04:
                continue
            if f & 0x02:
                self.their_iss = t.seq
                self.their_nxt = (t.seq + seg_len(t)) & M32
                if self.ts and "WScale" in opts:
                    self.their_shift = min(int(opts["WScale"]), 14)
            else:
                end = (t.seq + seg_len(t)) & M32
                if self.their_nxt is None or sgt(end, self.their_nxt):
                    self.their_nxt = end
            if f & 0x01:
                self.fin_seq = (t.seq + len(t.data)) & M32
            if f & 0x10:
                self.their_ack = t.ack
                self.their_win = t.window
                self.their_wnd = t.window << (0 if f & 0x02 else self.their_shift)

    def options(self, flags, extra=None):
        if extra is not None:
            return extra
        opts = []
        if "S" in flags:
            opts = [("MSS", MSS)]
            if self.ts:
                opts += [("WScale", 7), ("SAckOK", b"")]
        if self.ts and "R" not in flags:
            self.tsval = (self.tsval + 1) & M32
            opts.append(("Timestamp", (self.tsval, self.their_ts if "A" in flags else 0)))
        return opts

    def send(self, flags, seq=None, ack=None, payload=b"", options=None, **kw):
        seq = self.snd_nxt if seq is None else seq
        if ack is None:
            ack = self.their_nxt if "A" in flags and self.their_nxt is not None else 0
        self.net.send(self.net.tcp(self.sport, self.dport, flags, seq, ack, payload,
                                   options=self.options(flags, options), **kw))

    def take(self):
        segs = self.net.take(self.sport)
        self.learn(segs)
        return segs


def wait_for(net, conns, pred, timeout=2.0):
    """Pumps until pred(conn) holds for every conn (each conn's new segments
    are learned as they come); returns the conns for which it does not."""
    deadline = time.monotonic() + timeout
    pending = list(conns)
    while pending and time.monotonic() < deadline:
        net.pump(0.02)
        nxt = []
        for c in pending:
            c.take()
            if not pred(c):
                nxt.append(c)
        pending = nxt
    return pending
