"""HTTP against the kernel's TCP: curl and http.client from the namespace."""
import harness
from harness import SynmillCase, delta, open_count

N = 1000
CLOSED_KEYS = ("closed_normal", "closed_reset", "closed_aborted", "closed_timeout", "closed_refused")


class HttpChecks:
    """The HTTP checks, shared by the --no-huge and the hugepage runs."""

    def check_sequential(self, n=N):
        env = self.env
        before = env.stats()
        r = env.client("curl_seq", timeout=300, n=n, budget=240)
        self.assertEqual(r["ok"], n, f"{n - r['ok']} of {n} curl requests wrong; first: {r['bad'][:3]}")
        self.wait_quiet(timeout=15)
        after = env.stats()
        # one connection per curl process
        self.assertEqual(delta(after, before, "established"), n)
        self.assertGreaterEqual(delta(after, before, "syn_in"), n)
        self.assertEqual(sum(delta(after, before, k) for k in CLOSED_KEYS), n,
                         {k: delta(after, before, k) for k in CLOSED_KEYS})
        self.assertEqual(delta(after, before, "closed_reset"), 0)

    def check_keepalive_curl(self, n=N):
        env = self.env
        before = env.stats()
        r = env.client("curl_keepalive", timeout=120, n=n)
        self.assertEqual(r["rc"], 0, r)
        self.assertEqual(r["ok"], n, r["bad"])
        self.assertEqual(r["trailing"], 0, "unexpected bytes after the last response")
        self.assertEqual(r["connects"], 1, "curl opened more than one connection")
        self.wait_quiet(timeout=10)
        after = env.stats()
        self.assertEqual(delta(after, before, "established"), 1)

    def check_keepalive_httpclient(self, n=N):
        env = self.env
        before = env.stats()
        r = env.client("http_keepalive", timeout=120, n=n)
        self.assertEqual(r["ok"], n, r["bad"])
        self.assertTrue(r["one_connection"])
        self.wait_quiet(timeout=10)
        after = env.stats()
        self.assertEqual(delta(after, before, "established"), 1)


class HttpTest(SynmillCase, HttpChecks):
    LISTEN = "80:http"
    TIMEOUT_S = 300

    def test_1_sequential_1000_connections(self):
        self.check_sequential()

    def test_2_keepalive_1000_requests_curl(self):
        self.check_keepalive_curl()

    def test_3_keepalive_1000_requests_httpclient(self):
        self.check_keepalive_httpclient()

    def test_4_connection_close(self):
        # "Connection: close": synmill answers, then closes first: response and
        # FIN. The kernel's FIN must get through (synmill's window may not be
        # zero) and synmill, the active closer, ends in TIME_WAIT (RFC 9293 3.6).
        env = self.env
        before = env.stats()
        r = env.ns_run(["curl", "-s", "--max-time", "5", "-H", "Connection: close", "-D", "-",
                        f"http://{harness.SYNMILL_IP}/"])
        text = r.stdout.decode(errors="replace")
        head, _, body = text.partition("\r\n\r\n")
        self.assertTrue(head.startswith("HTTP/1.1 200"), head)
        self.assertIn("Content-Length: 19", head)
        self.assertIn("Connection: close", head)
        self.assertEqual(body.encode(), harness.HTTP_BODY)
        self.wait_states(lambda s: open_count(s) == 0, timeout=5,
                         what="synmill to leave FIN_WAIT_2 (the kernel's FIN to arrive)")
        self.assertEqual(env.kernel_tcp("last-ack"), set(), "kernel socket stuck in LAST_ACK")
        after = env.stats()
        self.assertEqual(delta(after, before, "time_wait_entered"), 1)
        self.assertEqual(delta(after, before, "drop_out_of_window"), 0)
