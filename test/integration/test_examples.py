"""The examples (examples/), built against the installed libsynmill by
test/examples/run.sh (which sets SYNMILL_EXAMPLES_BIN), against kernel peers
in a namespace. Skipped when SYNMILL_EXAMPLES_BIN is not set.

kv:     per-worker shards with a cross-worker message for foreign keys
        (2 workers, software dispatch on net_tap); sequential, pipelined and
        concurrent kernel clients; every reply byte-exact against a model.
router: curl (routes, 404/405, keep-alive, a 16 MiB stream byte-exact), a
        slow reader that stalls the stream (backpressure), wrk.
client: connects out from 2 workers to a kernel server; the lines each side
        got are exact; every connection closes normally.
"""
import json
import os
import re
import subprocess
import unittest

import harness
from harness import SynmillCase

BIN = os.environ.get("SYNMILL_EXAMPLES_BIN")
PEER = os.path.join(harness.HERE, "example_peer.py")
TWO_WORKERS = ("--lcores", "(0-2)@(0-1)")  # main lcore + 2 workers over the machine's CPUs


def example(name):
    return os.path.join(BIN, name) if BIN else None


def fnv1a(s):
    h = 1469598103934665603
    for c in s.encode():
        h = ((h ^ c) * 1099511628211) % (1 << 64)
    return h


def kv_model(script, store):
    replies = []
    for line in script:
        verb, key, *rest = line.split(" ")
        if verb == "SET":
            store[key] = rest[0]
            replies.append("OK\n")
        elif verb == "GET":
            replies.append(f"VALUE {store[key]}\n" if key in store else "NOT_FOUND\n")
        elif verb == "DEL":
            replies.append("DELETED\n" if store.pop(key, None) is not None else "NOT_FOUND\n")
    return replies


def kv_script(prefix, n):
    keys = [f"{prefix}-k{i}" for i in range(n)]
    script = [f"SET {k} v{i}-{'x' * (i % 40)}" for i, k in enumerate(keys)]
    script += [f"GET {k}" for k in keys]
    script += [f"DEL {k}" for k in keys[::2]]
    script += [f"GET {k}" for k in keys]
    script += [f"DEL {k}" for k in keys[::2]]
    return script


def peer(env, action, **params):
    p = env.ns_run([harness.PYTHON, PEER, action, json.dumps(params)], check=False, timeout=240)
    if p.returncode != 0:
        raise AssertionError(f"example_peer {action}: rc {p.returncode}: {p.stderr.decode(errors='replace')[-3000:]}")
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


@unittest.skipUnless(BIN, "SYNMILL_EXAMPLES_BIN not set (test/examples/run.sh sets it)")
class KvTest(SynmillCase):
    BINARY = example("synmill-kv")
    LISTEN = "7000:kv"
    LCORES = TWO_WORKERS
    TIMEOUT_S = 240

    def check(self, scripts, pipelined):
        r = peer(self.env, "kv", port=7000, scripts=scripts, pipelined=pipelined)
        for i, (script, got) in enumerate(zip(scripts, r["results"])):
            self.assertIsNotNone(got, f"script {i}: no result (thread still running)")
            want = kv_model(script, {})
            self.assertEqual(len(got["replies"]), len(want), f"script {i}: replies missing")
            self.assertEqual(got["replies"], want, f"script {i}")
            self.assertEqual(got["extra"], "", f"script {i}: bytes after the last reply")

    def test_keys_span_both_shards(self):
        owners = {fnv1a(f"s-k{i}") % 2 for i in range(100)}
        self.assertEqual(owners, {0, 1})  # so every connection meets foreign keys

    def test_sequential(self):
        self.check([kv_script("s", 100)], pipelined=False)

    def test_pipelined(self):
        self.check([kv_script(f"p{j}", 150) for j in range(4)], pipelined=True)

    def test_concurrent(self):
        self.check([kv_script(f"c{j}", 40) for j in range(16)], pipelined=False)
        self.wait_quiet(timeout=30)
        s = self.env.stats()
        self.assertGreater(int(s.get("dispatched", 0)), 0)  # software dispatch between the 2 workers

    def test_errors(self):
        r = peer(self.env, "kv", port=7000, scripts=[["FOO", "GET", "SET a", "GET a b"]], pipelined=True)
        self.assertEqual(r["results"][0]["replies"],
                         ["ERROR expected GET key, SET key value or DEL key\n"] * 4)


@unittest.skipUnless(BIN, "SYNMILL_EXAMPLES_BIN not set (test/examples/run.sh sets it)")
class KvStaticTest(SynmillCase):
    """The same store linked against libsynmill.a, one worker."""
    BINARY = example("synmill-kv-static")
    LISTEN = "7000:kv"

    def test_sequential(self):
        script = kv_script("st", 50)
        r = peer(self.env, "kv", port=7000, scripts=[script], pipelined=False)
        self.assertEqual(r["results"][0]["replies"], kv_model(script, {}))


@unittest.skipUnless(BIN, "SYNMILL_EXAMPLES_BIN not set (test/examples/run.sh sets it)")
class RouterTest(SynmillCase):
    BINARY = example("synmill-router")
    LISTEN = "80:router"
    TIMEOUT_S = 240
    URL = f"http://{harness.SYNMILL_IP}"

    def curl(self, *args):
        return self.env.ns_run(["curl", "-s", "--max-time", "60"] + list(args), timeout=90).stdout

    def test_hello(self):
        out = self.curl("-w", "\n%{http_code}", f"{self.URL}/hello")
        self.assertEqual(out, b"Hello from the router\n\n200")

    def test_not_found_and_method(self):
        self.assertEqual(self.curl("-o", "/dev/null", "-w", "%{http_code}", f"{self.URL}/nope"), b"404")
        self.assertEqual(self.curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", f"{self.URL}/hello"),
                         b"405")

    def test_keepalive_two_routes(self):
        out = self.curl("-w", "[%{num_connects}]", f"{self.URL}/hello", f"{self.URL}/stream/1000")
        want = b"Hello from the router\n[1]" + (bytes(range(251)) * 4)[:1000] + b"[0]"
        self.assertEqual(out, want)  # the second request reused the first connection

    def test_stream_16mib(self):
        n = 16 << 20
        out = self.curl(f"{self.URL}/stream/{n}")
        self.assertEqual(len(out), n)
        self.assertEqual(out, (bytes(range(251)) * (n // 251 + 1))[:n])

    def test_stream_slow_reader(self):
        r = peer(self.env, "http_slow", n=4 << 20, first=100000, stall=2, rcvbuf=16384)
        self.assertIn("200 OK", r["head"])
        self.assertEqual(r["received"], 4 << 20)
        self.assertTrue(r["equal"])

    def test_wrk(self):
        p = self.env.ns_run(["wrk", "-t", "1", "-c", "8", "-d", "3s", "--timeout", "10s", f"{self.URL}/hello"],
                            timeout=60)
        text = p.stdout.decode()
        m = re.search(r"(\d+) requests in", text)
        self.assertIsNotNone(m, text)
        self.assertGreater(int(m.group(1)), 0, text)
        self.assertNotIn("Non-2xx", text)
        self.assertNotIn("Socket errors", text)


@unittest.skipUnless(BIN, "SYNMILL_EXAMPLES_BIN not set (test/examples/run.sh sets it)")
class ClientTest(SynmillCase):
    BINARY = example("synmill-client")
    LISTEN = None
    LCORES = TWO_WORKERS
    N = 8
    APP_TAIL = (harness.PEER_IP, "9100", str(N))
    TIMEOUT_S = 180

    def test_exchange_and_close(self):
        env = self.env
        # The client retries refused connections every 200 ms until this server listens.
        srv = subprocess.Popen(["ip", "netns", "exec", env.ns, harness.PYTHON, PEER, "server",
                                json.dumps({"port": 9100, "n": self.N, "budget": 120})],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = srv.communicate(timeout=150)
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()
        self.assertEqual(srv.returncode, 0, err.decode(errors="replace")[-3000:])
        got = json.loads(out.decode().strip().splitlines()[-1])["got"]
        lines = sorted(g["line"] for g in got)
        want = sorted(f"HELLO {n % 2} {n}\n" for n in range(self.N))
        self.assertEqual(lines, want)
        self.assertTrue(all(g["after"] == "" for g in got), got)

        def done():
            text = env.log_text()
            return text if text.count("client: worker") >= self.N + 2 and "worker 1 done" in text \
                and "worker 0 done" in text else None
        text = harness.wait_until(done, 60, what="both workers done")
        for n in range(self.N):
            self.assertIn(f"client: worker {n % 2} conn {n} answer WORLD {n % 2} {n} closed normal", text)
