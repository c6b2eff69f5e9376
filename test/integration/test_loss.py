"""Reliable data under loss with the kernel as peer: a userspace netem
(impair.py: loss 5%, delay 1 ms, reorder 10%, both directions; this kernel
has no sch_netem) between the kernel and synmill's tap.

- a kernel client sends 16 MiB to synmill's echo and reads it back byte-exact;
- a kernel client downloads 16 MiB from synmill's send:N byte-exact;
- a kernel reader that stops reading makes synmill hold at zero window
  (persist probes) and resume without loss."""
import json

import harness
from harness import SynmillCase, delta

SIZE = 16 << 20
SERVER = harness.SYNMILL_IP


class LossTest(SynmillCase):
    LISTEN = f"7:echo,8000:send:{SIZE}"
    EXTRA = ("--grace", "1")
    IMPAIR = (5, 1, 10)
    TIMEOUT_S = 300

    def test_echo_16MiB_through_loss(self):
        env = self.env
        before = env.stats()
        r = env.client("echo", timeout=280, clients=1, bytes=SIZE, port=7, budget=240)
        self.assertFalse(r["timed_out"], r)
        c = r["results"][0]
        self.assertTrue(c["equal"], f"first difference at byte {c['first_diff']} of {c['received']}")
        after = env.stats()
        self.assertEqual(delta(after, before, "rx_bytes"), SIZE)
        self.assertEqual(delta(after, before, "tx_bytes"), SIZE)
        self.assertGreater(delta(after, before, "retransmits"), 0, "a lossy path without retransmissions?")
        print(f"\n    echo 16 MiB: {r['elapsed']:.1f} s, synmill retransmits "
              f"{delta(after, before, 'retransmits')}, fast retransmits {delta(after, before, 'fast_retransmits')}")

    def test_download_16MiB_through_loss(self):
        env = self.env
        before = env.stats()
        r = env.client("server_close", timeout=280, port=8000, n=SIZE)
        self.assertEqual(r["received"], SIZE, r)
        self.assertTrue(r["equal"], r)
        after = env.stats()
        self.assertGreater(delta(after, before, "retransmits"), 0)

    def test_zero_window_hold_and_resume(self):
        env = self.env
        before = env.stats()
        p = env.client_popen("slow_reader", port=8000, n=SIZE, first=1 << 20, stall=10, rcvbuf=65536, budget=200)
        try:
            line = json.loads(p.stdout.readline())
            peer = line["stalled"]
            # The kernel's receive buffer fills: synmill sees a zero window and probes.
            def zero_window():
                rows = env.conn_rows(peer, f"{SERVER}:8000")
                return rows and any(str(v) == "0" for v in (rows[0][7:8] if isinstance(rows[0], list) else []))
            # Through 5 % loss on a loaded machine the buffer may take seconds to fill:
            # up to 9 s of the 10 s stall.
            harness.wait_until(zero_window, 9, what="synmill to see a zero window")
            out, err = p.communicate(timeout=240)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        r = json.loads(out.decode().strip().splitlines()[-1])
        self.assertEqual(r["received"], SIZE, r)
        self.assertTrue(r["equal"], "bytes differ after the stall")
        after = env.stats()
        self.assertGreater(delta(after, before, "persist_probes") + delta(after, before, "zero_window_probes"), 0,
                           "no zero-window probe while the reader stalled")
