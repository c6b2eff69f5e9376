"""synmill's counters agree with what the kernel clients did and with the
kernel's own interface counters on the other end of the tap."""
import time

from harness import SynmillCase, delta

TW = 1
SEND_N = 100000
CLOSED_KEYS = ("closed_normal", "closed_reset", "closed_aborted", "closed_timeout", "closed_refused")
WIRE_ERRORS = ("drop_bad_ip_checksum", "drop_bad_tcp_checksum", "drop_parse_error")


def batch():
    conns = []
    for i in range(10):
        conns.append({"kind": "echo", "port": 7, "send": 1000 * (i + 1) + 7 * i})
        conns.append({"kind": "discard", "port": 9, "send": 5000 + 333 * i})
        conns.append({"kind": "send", "port": 8001, "n": SEND_N})
    return conns


class CountersTest(SynmillCase):
    LISTEN = f"7:echo,9:discard,8001:send:{SEND_N}"
    EXTRA = ("--grace", "1", "--time-wait", str(TW))

    def quiesce(self):
        self.wait_quiet(timeout=TW + 10, time_wait_too=True)
        time.sleep(0.3)  # let the last frames be counted on both sides

    def test_counters_match_clients(self):
        env = self.env
        conns = batch()
        n = len(conns)
        self.quiesce()
        before, kbefore = env.stats(), env.tap_stats()
        r = env.client("many", timeout=120, conns=conns)
        self.assertEqual(r["bad"], [])
        self.assertEqual(r["conns"], n)
        sent = sum(c.get("send", 0) for c in conns)
        received = sum(c["send"] for c in conns if c["kind"] == "echo") + SEND_N * 10
        self.assertEqual((r["sent"], r["received"]), (sent, received))
        self.quiesce()
        after, kafter = env.stats(), env.tap_stats()

        self.assertEqual(delta(after, before, "established"), n)
        self.assertEqual(delta(after, before, "syn_in"), n)
        self.assertEqual(delta(after, before, "synack_out"), n)
        closed = {k: delta(after, before, k) for k in CLOSED_KEYS}
        self.assertEqual(sum(closed.values()), n, closed)
        self.assertEqual(closed["closed_normal"], n, closed)
        # synmill closed first on the 10 send:N connections: those went through TIME_WAIT.
        self.assertEqual(delta(after, before, "time_wait_entered"), 10)
        # payload bytes
        self.assertEqual(delta(after, before, "rx_bytes"), sent)
        self.assertEqual(delta(after, before, "tx_bytes"), received)
        # frames: what the kernel put into the tap synmill received, and back
        self.assertEqual(delta(after, before, "rx_packets"), kafter["tx_packets"] - kbefore["tx_packets"])
        self.assertEqual(delta(after, before, "tx_packets"), kafter["rx_packets"] - kbefore["rx_packets"])
        for k in WIRE_ERRORS:
            if k in after:
                self.assertEqual(delta(after, before, k), 0, k)
        self.assertEqual(delta(after, before, "rst_out"), 0)
