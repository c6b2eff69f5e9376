#!/usr/bin/python3
"""Client actions run inside a test's network namespace (ip netns exec NS):
the Linux kernel's TCP is the peer synmill talks to.

    nsclient.py ACTION '{"param": value, ...}'

Prints one JSON object (the last line of stdout) describing what happened;
the test decides pass or fail. Every action is bounded in count and time.
"""
import errno
import http.client
import json
import os
import selectors
import shutil
import socket
import struct
import subprocess
import sys
import time

SERVER = "198.18.0.2"  # synmill (198.18.0.0/15 only)
BODY = b"Hello from synmill\n"


def pattern(offset, n):
    return bytes(((i * 7 + (i >> 8)) & 0xFF) for i in range(offset, offset + n))


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def addr_str(a):
    return f"{a[0]}:{a[1]}"


# -- HTTP -------------------------------------------------------------------

def curl_seq(p):
    """n sequential curl processes, one connection each."""
    n, url = p["n"], p.get("url", f"http://{SERVER}/")
    extra = p.get("curl_args", [])  # e.g. ["-6"] with an IPv6 url
    deadline = time.monotonic() + p.get("budget", 240)
    ok, bad = 0, []
    t0 = time.monotonic()
    for i in range(n):
        if time.monotonic() > deadline:
            bad.append({"i": i, "error": "suite deadline"})
            break
        r = subprocess.run(["curl", "-s", *extra, "--max-time", "5", "-o", "-", "-w", "\n%{http_code}", url],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        expected = BODY + b"\n200"
        if r.returncode == 0 and r.stdout == expected:
            ok += 1
        elif len(bad) < 10:
            bad.append({"i": i, "rc": r.returncode, "out": r.stdout[-200:].decode(errors="replace")})
    out({"n": n, "ok": ok, "bad": bad, "elapsed": time.monotonic() - t0})


def curl_par(p):
    """n curl processes, one connection each, `parallel` at a time; each may
    take `max_time` seconds (TCP's SYN retransmissions included)."""
    import concurrent.futures
    n, url = p["n"], p.get("url", f"http://{SERVER}/")
    deadline = time.monotonic() + p.get("budget", 240)
    expected = BODY + b"\n200"

    def one(i):
        if time.monotonic() > deadline:
            return {"i": i, "error": "suite deadline"}
        r = subprocess.run(["curl", "-s", "--max-time", str(p.get("max_time", 5)), "-o", "-", "-w",
                            "\n%{http_code}", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=p.get("max_time", 5) + 10)
        if r.returncode == 0 and r.stdout == expected:
            return None
        return {"i": i, "rc": r.returncode, "out": r.stdout[-200:].decode(errors="replace")}
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=p.get("parallel", 4)) as ex:
        results = list(ex.map(one, range(n)))
    bad = [r for r in results if r is not None]
    out({"n": n, "ok": n - len(bad), "bad": bad[:10], "elapsed": time.monotonic() - t0})


def curl_keepalive(p):
    """One curl process fetching n URLs: curl reuses its connection."""
    n = p["n"]
    url = f"http://{SERVER}/?[1-{n}]"
    r = subprocess.run(["curl", "-s", "--max-time", str(p.get("max_time", 60)), "-o", "-",
                        "-w", "|%{http_code}|%{num_connects}\n", url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=p.get("max_time", 60) + 10)
    # Output: BODY |code|connects \n BODY |code|connects \n ... ; BODY ends in \n itself.
    ok, connects, bad = 0, 0, []
    data = r.stdout
    pos, i = 0, 0
    while pos < len(data) and i < n:
        if not data.startswith(BODY, pos):
            bad.append({"i": i, "at": data[pos:pos + 80].decode(errors="replace")})
            break
        pos += len(BODY)
        end = data.find(b"\n", pos)
        if end < 0:
            bad.append({"i": i, "error": "truncated write-out"})
            break
        fields = data[pos:end].decode().split("|")
        pos = end + 1
        if len(fields) != 3 or fields[1] != "200":
            bad.append({"i": i, "fields": fields})
        else:
            ok += 1
            connects += int(fields[2])
        i += 1
    out({"n": n, "rc": r.returncode, "ok": ok, "connects": connects, "bad": bad[:10],
         "trailing": len(data) - pos})


def http_keepalive(p):
    """n requests on one http.client connection; every status/body checked."""
    n = p["n"]
    c = http.client.HTTPConnection(SERVER, p.get("port", 80), timeout=5)
    ok, bad = 0, []
    c.connect()
    local = addr_str(c.sock.getsockname())
    for i in range(n):
        c.request("GET", f"/{i}")
        r = c.getresponse()
        body = r.read()
        if r.status == 200 and body == BODY and r.getheader("Content-Length") == str(len(BODY)):
            ok += 1
        elif len(bad) < 10:
            bad.append({"i": i, "status": r.status, "body": body[:80].decode(errors="replace")})
    same = addr_str(c.sock.getsockname()) == local
    c.close()
    out({"n": n, "ok": ok, "bad": bad, "one_connection": same, "local": local})


# -- Echo -------------------------------------------------------------------

def echo(p):
    """`clients` concurrent connections; each sends `bytes` random bytes and
    reads back exactly the same bytes. All connect before any data flows; with
    "sync": true it prints {"connected": N} and waits for a line on stdin."""
    nclients, size, port = p["clients"], p["bytes"], p.get("port", 7)
    server = p.get("server", SERVER)  # an IPv6 address string works as well
    deadline = time.monotonic() + p.get("budget", 120)
    sel = selectors.DefaultSelector()
    conns = []
    for i in range(nclients):
        s = socket.create_connection((server, port), timeout=10)
        s.setblocking(False)
        conns.append({"i": i, "sock": s, "data": os.urandom(size), "sent": 0, "recv": bytearray(),
                      "eof": False, "local": addr_str(s.getsockname())})
    if p.get("sync"):
        out({"connected": len(conns)})
        sys.stdin.readline()
    for c in conns:
        sel.register(c["sock"], selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    active = len(conns)
    t0 = time.monotonic()
    while active and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=0.5):
            c = key.data
            s = c["sock"]
            if ev & selectors.EVENT_WRITE and c["sent"] < size:
                try:
                    c["sent"] += s.send(memoryview(c["data"])[c["sent"]:c["sent"] + 262144])
                except BlockingIOError:
                    pass
                if c["sent"] == size:
                    sel.modify(s, selectors.EVENT_READ, c)
            if ev & selectors.EVENT_READ:
                try:
                    chunk = s.recv(262144)
                except BlockingIOError:
                    continue
                if not chunk:
                    c["eof"] = True
                else:
                    c["recv"] += chunk
                if c["eof"] or len(c["recv"]) >= size:
                    sel.unregister(s)
                    active -= 1
    elapsed = time.monotonic() - t0
    results = []
    for c in conns:
        got = bytes(c["recv"])
        first_diff = None
        if got != c["data"]:
            m = min(len(got), len(c["data"]))
            first_diff = next((k for k in range(m) if got[k] != c["data"][k]), m)
        results.append({"i": c["i"], "sent": c["sent"], "received": len(got), "equal": got == c["data"],
                        "first_diff": first_diff, "eof_early": c["eof"], "local": c["local"]})
    # Orderly close from our side: FIN, then read synmill's FIN.
    for c in conns:
        try:
            c["sock"].setblocking(True)
            c["sock"].settimeout(5)
            c["sock"].shutdown(socket.SHUT_WR)
            while c["sock"].recv(65536):
                pass
        except OSError:
            pass
        c["sock"].close()
    out({"clients": nclients, "elapsed": elapsed, "timed_out": active > 0, "results": results})


# -- Closing ----------------------------------------------------------------

def client_close(p):
    """Connect, send `send` bytes (echo: read them back), close first
    (FIN from us), read synmill's FIN, close: our side ends in TIME_WAIT."""
    port, n = p["port"], p.get("send", 1000)
    s = socket.create_connection((SERVER, port), timeout=10)
    local = addr_str(s.getsockname())
    data = os.urandom(n)
    s.sendall(data)
    got = bytearray()
    if p.get("expect_echo"):
        while len(got) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    s.shutdown(socket.SHUT_WR)
    rest = bytearray()
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    s.close()
    out({"local": local, "sent": n, "echoed": len(got), "echo_equal": bytes(got) == data,
         "after_fin": len(rest)})


def server_close(p):
    """Connect to send:N, read until EOF (synmill closes first), check every
    byte, then close."""
    port, n = p["port"], p["n"]
    hold = p.get("hold", 0.0)
    s = socket.create_connection((SERVER, port), timeout=10)
    local = addr_str(s.getsockname())
    got = bytearray()
    while True:
        chunk = s.recv(262144)
        if not chunk:
            break
        got += chunk
    equal = bytes(got) == pattern(0, n)
    first_diff = None
    if not equal:
        exp = pattern(0, min(n, len(got)))
        first_diff = next((k for k in range(len(exp)) if got[k] != exp[k]), len(exp))
    if hold:
        time.sleep(hold)  # synmill sits in FIN_WAIT_2 meanwhile
    s.close()
    out({"local": local, "received": len(got), "equal": equal, "first_diff": first_diff})


def many(p):
    """A batch of client_close / server_close connections, sequential; totals."""
    sent = received = conns = 0
    bad = []
    for spec in p["conns"]:
        s = socket.create_connection((SERVER, spec["port"]), timeout=10)
        conns += 1
        if spec["kind"] == "echo":
            data = os.urandom(spec["send"])
            s.sendall(data)
            sent += len(data)
            got = bytearray()
            while len(got) < len(data):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            received += len(got)
            if bytes(got) != data:
                bad.append({"spec": spec, "got": len(got)})
        elif spec["kind"] == "discard":
            data = os.urandom(spec["send"])
            s.sendall(data)
            sent += len(data)
        if spec["kind"] in ("echo", "discard"):
            s.shutdown(socket.SHUT_WR)
        got = bytearray()
        while True:
            chunk = s.recv(262144)
            if not chunk:
                break
            got += chunk
        received += len(got)
        if spec["kind"] == "send" and bytes(got) != pattern(0, spec["n"]):
            bad.append({"spec": spec, "got": len(got)})
        elif spec["kind"] != "send" and got:
            bad.append({"spec": spec, "extra_after_fin": len(got)})
        s.close()
    out({"conns": conns, "sent": sent, "received": received, "bad": bad})


def slow_reader(p):
    """Connect to send:N, read `first` bytes, stop reading for `stall` seconds
    (synmill meets a zero window), say {"stalled": ...} at the start of the
    stall, then read the rest; check every byte."""
    port, n = p["port"], p["n"]
    s = socket.create_connection((SERVER, port), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, p.get("rcvbuf", 65536))
    got = bytearray()
    while len(got) < p["first"]:
        chunk = s.recv(min(65536, p["first"] - len(got)))
        if not chunk:
            break
        got += chunk
    out({"stalled": addr_str(s.getsockname()), "read": len(got)})
    time.sleep(p["stall"])
    deadline = time.monotonic() + p.get("budget", 120)
    while time.monotonic() < deadline:
        chunk = s.recv(262144)
        if not chunk:
            break
        got += chunk
    s.close()
    equal = bytes(got) == pattern(0, n)
    out({"received": len(got), "equal": equal})


TCP_CLOSE = 7  # tcpi_state (include/net/tcp_states.h)


def squatters(p):
    """n connections to send:N that never read: a small receive buffer, so
    the kernel soon advertises a zero window and synmill's data for them sits
    in its send pool. Says {"connected": n} once all are up; then, still
    without reading a byte, watches each socket's state (TCP_INFO, which
    consumes nothing) until synmill has reset every one or `wait` s passed."""
    import resource
    n, port = p["n"], p["port"]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64 if hard == resource.RLIM_INFINITY else min(n + 64, hard), hard))
    socks = []
    t0 = time.monotonic()
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, p.get("rcvbuf", 4096))
        s.settimeout(10)
        s.connect((SERVER, port))
        socks.append(s)
    out({"connected": len(socks), "elapsed": time.monotonic() - t0})
    deadline = time.monotonic() + p.get("wait", 60)
    closed = 0
    while time.monotonic() < deadline:
        closed = sum(1 for s in socks if s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] == TCP_CLOSE)
        if closed == n:
            break
        time.sleep(0.2)
    errors = {}
    for s in socks:
        e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        name = errno.errorcode.get(e, str(e)) if e else "none"
        errors[name] = errors.get(name, 0) + 1
        s.close()
    out({"n": n, "closed": closed, "errors": errors, "elapsed": time.monotonic() - t0})


def hold_open(p):
    """Connect, say {"connected": ...}, then wait (bounded) for synmill to
    end the connection: EOF (its FIN) or an error (its RST)."""
    s = socket.create_connection((SERVER, p["port"]), timeout=10)
    local = addr_str(s.getsockname())
    if p.get("send"):
        s.sendall(b"x" * p["send"])
    out({"connected": local})
    s.settimeout(p.get("wait", 15))
    res = {"local": local, "eof": False, "error": None, "bytes": 0}
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                res["eof"] = True
                break
            res["bytes"] += len(chunk)
    except OSError as e:
        res["error"] = errno.errorcode.get(e.errno, str(e)) if e.errno else type(e).__name__
    s.close()
    out(res)


def refused(p):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((SERVER, p["port"]))
        res = {"connected": True, "errno": None}
    except OSError as e:
        res = {"connected": False, "errno": errno.errorcode.get(e.errno, str(e.errno)) if e.errno else
               type(e).__name__}
    finally:
        s.close()
    out(res)


# -- ICMP -------------------------------------------------------------------

def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


def ping(p):
    """ICMP echo: the ping binary when installed, else a raw socket."""
    count, size = p.get("count", 3), p.get("size", 56)
    if shutil.which("ping") and size == 56:
        r = subprocess.run(["ping", "-c", str(count), "-W", "2", "-i", "0.2", SERVER],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        text = r.stdout.decode(errors="replace")
        received = 0
        for line in text.splitlines():
            if "received" in line:
                for part in line.split(","):
                    if "received" in part:
                        received = int(part.split()[0])
        out({"tool": "ping", "rc": r.returncode, "sent": count, "received": received, "text": text[-500:]})
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    received, rtts, bad = 0, [], []
    for seq in range(1, count + 1):
        payload = os.urandom(size)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, _csum(hdr + payload), ident, seq) + payload
        t0 = time.monotonic()
        s.sendto(pkt, (SERVER, 0))
        deadline = t0 + 2
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data, src = s.recvfrom(2048)
            except socket.timeout:
                break
            ihl = (data[0] & 0x0F) * 4
            icmp = data[ihl:]
            if src[0] != SERVER or len(icmp) < 8:
                continue
            typ, code, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
            if typ == 0 and rid == ident and rseq == seq:
                if icmp[8:] != payload or _csum(icmp) != 0:
                    bad.append({"seq": seq, "error": "payload or checksum"})
                else:
                    received += 1
                    rtts.append((time.monotonic() - t0) * 1000)
                break
        time.sleep(0.1)
    out({"tool": "raw-socket", "sent": count, "received": received, "rtt_ms": rtts, "bad": bad})


# -- Raw frames ---------------------------------------------------------------

def send_frames(p):
    """Sends the given Ethernet frames (hex) out of `iface` as they are (AF_PACKET)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((p["iface"], 0))
    sent = 0
    for h in p["frames"]:
        sent += s.send(bytes.fromhex(h)) > 0
        time.sleep(0.01)
    s.close()
    out({"sent": sent})


ACTIONS = {f.__name__: f for f in (send_frames, curl_seq, curl_par, slow_reader, squatters, curl_keepalive, http_keepalive, echo, client_close,
                                   server_close, many, hold_open, refused, ping)}

if __name__ == "__main__":
    ACTIONS[sys.argv[1]](json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
