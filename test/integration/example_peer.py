#!/usr/bin/python3
"""Kernel-side peers for the examples' tests (test_examples.py), run inside
the test's namespace; each prints one JSON line.

    example_peer.py kv '{"port": 7000, "scripts": [[...], ...], "pipelined": true}'
        one connection per script, all at once (threads); each sends its
        lines ("SET k v", ...) one at a time (reading each reply) or all in one
        write, then reads one reply line per request, then closes (FIN) and
        reads the server's FIN. Result: the reply lines per script.
    example_peer.py server '{"port": 9100, "n": 8, "budget": 60}'
        a kernel TCP server: accepts n connections, reads one line from each,
        answers "WORLD <the line's words after HELLO>\\n", waits for the peer's
        FIN, closes. Prints {"listening": true} first, then the lines it got.
"""
import json
import socket
import sys
import threading
import time

SERVER = "198.18.0.2"


def out(obj):
    print(json.dumps(obj), flush=True)


def read_lines(sock, n, buf):
    lines = []
    while len(lines) < n:
        nl = buf.find(b"\n")
        if nl >= 0:
            lines.append(buf[:nl + 1].decode())
            del buf[:nl + 1]
            continue
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return lines


def kv_session(port, script, pipelined, result, i):
    s = socket.create_connection((SERVER, port), timeout=30)
    buf = bytearray()
    replies = []
    if pipelined:
        s.sendall("".join(line + "\n" for line in script).encode())
        replies = read_lines(s, len(script), buf)
    else:
        for line in script:
            s.sendall((line + "\n").encode())
            replies += read_lines(s, 1, buf)
    s.shutdown(socket.SHUT_WR)
    rest = bytearray(buf)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    s.close()
    result[i] = {"replies": replies, "extra": rest.decode(errors="replace")}


def kv(p):
    scripts = p["scripts"]
    result = [None] * len(scripts)
    threads = [threading.Thread(target=kv_session, args=(p["port"], sc, p.get("pipelined", False), result, i))
               for i, sc in enumerate(scripts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=p.get("budget", 120))
    out({"results": result})


def server(p):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("198.18.0.1", p["port"]))
    ls.listen(128)
    ls.settimeout(p.get("budget", 60))
    out({"listening": True})
    got = []
    deadline = time.monotonic() + p.get("budget", 60)
    for _ in range(p["n"]):
        c, peer = ls.accept()
        c.settimeout(max(1, deadline - time.monotonic()))
        buf = bytearray()
        line = read_lines(c, 1, buf)
        text = line[0] if line else ""
        if text.startswith("HELLO "):
            c.sendall(("WORLD " + text[6:]).encode())
        rest = bytearray(buf)
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            rest += chunk
        c.close()
        got.append({"peer": f"{peer[0]}:{peer[1]}", "line": text, "after": rest.decode(errors="replace")})
    ls.close()
    out({"got": got})


def stream_pattern(n):
    return (bytes(range(251)) * (n // 251 + 1))[:n]


def http_slow(p):
    """GET /stream/N with a small receive buffer; stop reading for `stall`
    seconds after `first` bytes (the router meets a zero window and must wait
    for on_writable), then read the rest; check head and every body byte."""
    n = p["n"]
    s = socket.create_connection((SERVER, p.get("port", 80)), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, p.get("rcvbuf", 16384))
    s.sendall(f"GET /stream/{n} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    got = bytearray()
    while len(got) < p["first"]:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    time.sleep(p["stall"])
    while True:
        chunk = s.recv(262144)
        if not chunk:
            break
        got += chunk
    s.close()
    head, _, body = bytes(got).partition(b"\r\n\r\n")
    out({"head": head.decode(errors="replace"), "received": len(body), "equal": body == stream_pattern(n)})


if __name__ == "__main__":
    {"kv": kv, "server": server, "http_slow": http_slow}[sys.argv[1]](json.loads(sys.argv[2]))
