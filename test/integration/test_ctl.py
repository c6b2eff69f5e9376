"""synmill-ctl reads a running synmill's telemetry and agrees with it."""
import json
import os
import re

import harness
from harness import SynmillCase, wait_until


class CtlTest(SynmillCase):
    LISTEN = "7:echo"

    def ctl(self, *args):
        binary = os.path.join(harness.build_dir(), "apps", "synmill-ctl")
        p = harness.run([binary, "--file-prefix", self.env.file_prefix] + list(args), timeout=20)
        return p.stdout.decode(errors="replace")

    def test_stats_states_conns_of_an_open_connection(self):
        env = self.env
        p = env.client_popen("hold_open", port=7, send=1234, wait=20)
        try:
            line = p.stdout.readline()
            if not line:
                self.fail(p.stderr.read().decode(errors="replace")[-2000:])
            local = json.loads(line)["connected"]
            wait_until(lambda: int(env.stats().get("tx_bytes", 0)) >= 1234, 5, what="the echo")

            stats = {}
            for row in self.ctl("stats").splitlines():
                parts = row.split()
                if len(parts) == 2 and parts[1].isdigit():
                    stats[parts[0]] = int(parts[1])
            tel = env.stats()
            for key in ("established", "syn_in", "rx_bytes", "tx_bytes", "closed_normal"):
                self.assertEqual(stats.get(key), int(tel[key]), key)
            self.assertEqual(stats["rx_bytes"], 1234)

            states = self.ctl("states")
            self.assertRegex(states, r"\bestab 1\b")
            self.assertRegex(states, r"\blisten 1\b")

            conns = self.ctl("conns")
            rows = [r for r in conns.splitlines() if local in r.split()]
            self.assertEqual(len(rows), 1, conns)
            self.assertTrue(rows[0].startswith("ESTAB"), rows[0])
            self.assertIn(f"{harness.SYNMILL_IP}:7", rows[0].split())
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        # The client is gone (its kernel sent FIN): the row goes too.
        wait_until(lambda: not re.search(re.escape(local) + r"\b", self.ctl("conns")), 5,
                   what="the connection to leave synmill-ctl conns")
