"""Closing from both sides against the kernel's TCP: who ends in TIME_WAIT,
and synmill's TIME_WAIT lasting the configured --time-wait."""
import json
import time

import harness
from harness import SynmillCase, delta, open_count

TW = 3  # --time-wait seconds
SEND_N = 1048576
SERVER = harness.SYNMILL_IP


class CloseTest(SynmillCase):
    LISTEN = f"7:echo,9:discard,8000:send:{SEND_N}"
    EXTRA = ("--grace", "1", "--time-wait", str(TW))

    def setUp(self):
        super().setUp()
        # Independent of the order: no connection and no TIME_WAIT left over.
        self.wait_quiet(timeout=TW + 5, time_wait_too=True)

    def assert_conn_gone(self, peer, port):
        """The 4-tuple is absent from /synmill/conns."""
        hits = self.env.conn_rows(peer, f"{SERVER}:{port}")
        self.assertEqual(hits, [], "connection still in synmill's table")

    def check_client_first(self, port, expect_echo):
        env = self.env
        before = env.stats()
        r = env.client("client_close", port=port, send=1000, expect_echo=expect_echo)
        if expect_echo:
            self.assertTrue(r["echo_equal"], r)
        self.assertEqual(r["after_fin"], 0, "bytes after our FIN")
        # The kernel closed first: its socket is in TIME_WAIT on this 4-tuple.
        self.assertIn((r["local"], f"{SERVER}:{port}"), env.kernel_tcp("time-wait"))
        # synmill closed passively (CLOSE_WAIT -> LAST_ACK -> CLOSED): nothing left, no TIME_WAIT.
        states = self.wait_quiet(timeout=5)
        self.assertEqual(int(states.get("TIME_WAIT", 0)), 0, states)
        after = env.stats()
        self.assertEqual(delta(after, before, "established"), 1)
        self.assertEqual(delta(after, before, "closed_normal"), 1)
        self.assertEqual(delta(after, before, "closed_reset"), 0)
        self.assertEqual(delta(after, before, "time_wait_entered"), 0)
        self.assertEqual(delta(after, before, "rx_bytes"), 1000)
        self.assertEqual(delta(after, before, "tx_bytes"), 1000 if expect_echo else 0)
        self.assert_conn_gone(r["local"], port)

    def test_client_first_close_discard(self):
        self.check_client_first(9, expect_echo=False)

    def test_client_first_close_echo(self):
        self.check_client_first(7, expect_echo=True)

    def test_server_first_close_time_wait(self):
        env = self.env
        before = env.stats()
        r = env.client("server_close", port=8000, n=SEND_N)
        closed_at = time.monotonic()
        self.assertEqual(r["received"], SEND_N)
        self.assertTrue(r["equal"], f"byte {r['first_diff']} differs from the send:N pattern")
        tuple_ = (r["local"], f"{SERVER}:8000")
        # The kernel closed passively: no TIME_WAIT on its side.
        self.assertNotIn(tuple_, env.kernel_tcp("time-wait"))
        self.wait_states(lambda s: int(s.get("TIME_WAIT", 0)) >= 1 and open_count(s) == 0,
                                  timeout=3, what="synmill TIME_WAIT >= 1")
        after = env.stats()
        self.assertEqual(delta(after, before, "established"), 1)
        self.assertEqual(delta(after, before, "time_wait_entered"), 1)
        self.assertEqual(delta(after, before, "closed_normal"), 1)
        self.assertEqual(delta(after, before, "tx_bytes"), SEND_N)
        # ... and it expires after --time-wait, not much earlier or later.
        self.wait_states(lambda s: int(s.get("TIME_WAIT", 0)) == 0, timeout=TW + 4,
                         what=f"TIME_WAIT to expire after {TW}s")
        gone_after = time.monotonic() - closed_at
        self.assertGreaterEqual(gone_after, TW - 0.5, f"TIME_WAIT ended after {gone_after:.2f}s")
        self.assertLessEqual(gone_after, TW + 3, f"TIME_WAIT ended after {gone_after:.2f}s")

    def test_server_first_close_fin_wait_2_while_peer_holds(self):
        # Synmill has sent everything and its FIN; the client reads to EOF and
        # holds the socket open 2 s: synmill sits in FIN_WAIT_2, the kernel in CLOSE_WAIT.
        env = self.env
        p = env.client_popen("server_close", port=8000, n=SEND_N, hold=2.0)
        try:
            self.wait_states(lambda s: int(s.get("FIN_WAIT_2", 0)) == 1, timeout=5,
                             what="synmill FIN_WAIT_2")
            close_wait = [local for local, peer in env.kernel_tcp("close-wait") if peer == f"{SERVER}:8000"]
            self.assertEqual(len(close_wait), 1, close_wait)
            # /synmill/conns lists this very connection, in FIN_WAIT_2
            rows = env.conn_rows(close_wait[0], f"{SERVER}:8000")
            self.assertEqual(len(rows), 1, rows)
            self.assertIn("FIN_WAIT_2", [str(v) for v in (rows[0].values() if isinstance(rows[0], dict)
                                                           else rows[0])])
            out, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        r = json.loads(out.decode().strip().splitlines()[-1])
        self.assertTrue(r["equal"], r)
        self.wait_states(lambda s: int(s.get("TIME_WAIT", 0)) == 1 and open_count(s) == 0, timeout=3,
                         what="synmill TIME_WAIT after the peer's FIN")
