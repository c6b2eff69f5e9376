#!/usr/bin/python3
"""synmill's built-in applications as small Linux kernel-socket servers, for
the differential suite (diff.py): run inside the Linux namespace, they make
the kernel's TCP the oracle that synmill is compared with.

    kernel_apps.py --listen 7:echo,9:discard,7000:hold,8001:send:0,80:http
                   [--connect ADDR:PORTxN]   # clients from ports 40000 up, served by echo

Each mirrors lib/tcp/apps/*: echo returns every byte; discard takes every byte
and closes when the peer does; hold takes every byte and never closes; send:N
sink accepts and never reads (synmill's hold
on the same port: it is for cases about ACK timing, where Linux's reader would ACK); send:N
sends N bytes of synmill's pattern (byte i = (i*7 + (i>>8)) & 0xff) and closes
first; http answers each request (headers up to the empty line, empty lines
before the request line ignored, RFC 9112 §2.2) with synmill's exact response,
keep-alive per RFC 9112 §9.3. `--connect` opens N connections like synmill's
`--connect` (served by echo).

Socket options chosen so that the kernel behaves like synmill's defaults
(the suite's README lists them): SO_OOBINLINE (urgent bytes stay in the stream,
RFC 6093 §6: synmill ignores the urgent pointer), TCP_NODELAY (synmill has no
Nagle), TCP_QUICKACK 0 after accept and after every read (Linux starts a
connection in quick-ack mode; synmill always delays ACKs, RFC 9293 §3.8.6.3),
SO_RCVBUF on the listener (a fixed, small window like synmill's --rcv-wnd).
Prints "kernel_apps: ready" once every listener is up; stops on SIGTERM.
"""
import argparse
import errno
import selectors
import signal
import socket
import sys

BODY = "Hello from synmill\n"
HEAD = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
        f"{len(BODY)}\r\nConnection: ")
RESP_KEEP = (HEAD + "keep-alive\r\n\r\n" + BODY).encode()
RESP_CLOSE = (HEAD + "close\r\n\r\n" + BODY).encode()
FIRST_PORT = 40000
RCVBUF = 8192


def pattern(i0, n):
    return bytes(((i * 7 + (i >> 8)) & 0xFF) for i in range(i0, i0 + n))


class Conn:
    def __init__(self, loop, s, app):
        self.loop, self.s, self.app = loop, s, app
        self.out = bytearray()
        self.close_after = False   # close once `out` drained
        self.closed = False
        self.buf = b""             # http: bytes of the request being read
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.quickack_off()
        if app == "sink":      # never reads: not watched (it would stay readable)
            loop.sinks.append(s)
            return
        loop.sel.register(s, selectors.EVENT_READ, self)
        if app.startswith("send:"):
            self.write(pattern(0, int(app[5:])))
            self.close_after = True
            self.flush()

    def quickack_off(self):
        try:
            self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)
        except OSError:
            pass

    def write(self, data):
        self.out += data

    def flush(self):
        while self.out and not self.closed:
            try:
                n = self.s.send(self.out)
            except BlockingIOError:
                break
            except OSError:
                return self.close()
            del self.out[:n]
        if not self.closed:
            ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if self.out else 0)
            self.loop.sel.modify(self.s, ev, self)
            if not self.out and self.close_after:
                self.close()

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.loop.sel.unregister(self.s)
        self.s.close()

    def readable(self):
        try:
            data = self.s.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return self.close()
        self.quickack_off()
        if not data:  # the peer's FIN
            if self.app in ("discard", "echo", "http") or self.app.startswith("send:"):
                self.close_after = True
                self.flush()
            return     # hold: never closes
        if self.app == "echo":
            self.write(data)
        elif self.app == "http":
            self.http(data)
        self.flush()

    def http(self, data):
        if self.close_after:
            return  # after a "close" response later bytes are ignored
        self.buf += data
        while True:
            # RFC 9112 §2.2: empty lines (CRLF or bare LF) before the request line are ignored.
            while self.buf.startswith(b"\r\n") or self.buf.startswith(b"\n"):
                self.buf = self.buf[2:] if self.buf.startswith(b"\r\n") else self.buf[1:]
            ends = [i for i in (self.buf.find(b"\r\n\r\n"), self.buf.find(b"\n\n")) if i >= 0]
            if not ends:
                return
            end = min(ends)
            head = self.buf[:end].decode("latin-1")
            self.buf = self.buf[end + (4 if self.buf[end:end + 4] == b"\r\n\r\n" else 2):]
            lines = head.replace("\r\n", "\n").split("\n")
            http10 = "HTTP/1.0" in lines[0]
            conn = [ln.split(":", 1)[1].strip().lower() for ln in lines[1:]
                    if ln.lower().startswith("connection:")]
            keep = ("keep-alive" in conn) if http10 else ("close" not in conn)
            self.write(RESP_KEEP if keep else RESP_CLOSE)
            if not keep:
                self.close_after = True
                return


class Loop:
    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.listeners = {}
        self.sinks = []

    def listen(self, port, app, family=4):
        # --family 6: one dual-stack socket (IPV6_V6ONLY off) serves both families, as synmill's listener does.
        s = socket.socket(socket.AF_INET6 if family == 6 else socket.AF_INET, socket.SOCK_STREAM)
        if family == 6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
        s.bind(("::" if family == 6 else "0.0.0.0", port))
        s.listen(1024)
        s.setblocking(False)
        self.sel.register(s, selectors.EVENT_READ, ("listener", app))

    def connect(self, addr, port, n):
        v6 = ":" in addr
        for i in range(n):
            s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
            s.bind(("::" if v6 else "0.0.0.0", FIRST_PORT + i))
            s.setblocking(False)
            err = s.connect_ex((addr, port))
            if err not in (0, errno.EINPROGRESS):
                raise OSError(err, "connect")
            Conn(self, s, "echo")

    def run(self):
        while True:
            for key, ev in self.sel.select(1.0):
                d = key.data
                if isinstance(d, tuple):
                    try:
                        s, _ = key.fileobj.accept()
                    except (BlockingIOError, OSError):
                        continue
                    Conn(self, s, d[1])
                    continue
                if ev & selectors.EVENT_READ and not d.closed:
                    d.readable()
                if ev & selectors.EVENT_WRITE and not d.closed:
                    d.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="")
    ap.add_argument("--connect", action="append", default=[], help="ADDR:PORT[xN] ([ADDR]:PORT for IPv6)")
    ap.add_argument("--family", type=int, choices=(4, 6), default=4, help="6: listeners take both families")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    loop = Loop()
    for spec in filter(None, args.listen.split(",")):
        port, app = spec.split(":", 1)
        loop.listen(int(port), app, args.family)
    print("kernel_apps: ready", flush=True)
    for spec in args.connect:
        hostport, _, n = spec.partition("x")
        host, port = hostport.rsplit(":", 1)
        loop.connect(host.strip("[]"), int(port), int(n or 1))
    loop.run()


if __name__ == "__main__":
    main()
