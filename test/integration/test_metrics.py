"""Prometheus metrics: `synmill-ctl metrics` and the `metrics` application
(--listen 9100:metrics, fetched by the kernel's curl over synmill's TCP) print
the same families; prometheus_client's text parser reads both; every counter
and gauge of /synmill/stats,W and /synmill/states,W appears once per worker
with a worker label, and its value lies between the telemetry read just
before and just after. Then a tight loop reads telemetry while curl loads
synmill: every reply is one consistent moment per worker (the snapshots)."""
import os
import subprocess
import threading
import time

from prometheus_client.parser import text_string_to_metric_families

import harness
from harness import SynmillCase

WORKERS = 2
SKIP = {"busy_cycles_per_packet"}  # derived: left out of the metrics
# Gauges among /synmill/stats' keys (they may go down; every other key is a counter).
GAUGES = {"mbufs_in_use", "orphans", "squatters", "chunks_in_use", "timers_armed", "time_wait_entries"}


def sample_key(stat):
    """The (sample name, extra label) a /synmill/stats key becomes (metrics_text.hpp)."""
    if stat.startswith("drop_"):
        return None  # tcp or worker drop: matched by reason below
    if stat in ("mbufs_in_use", "mbufs_total"):
        return None
    return stat


def parse(text):
    """{(name, frozenset(labels)): value}, and the families."""
    families = list(text_string_to_metric_families(text))
    samples = {}
    for fam in families:
        for s in fam.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, f"duplicate sample {key}"
            samples[key] = s.value
    return samples, families


class MetricsTest(SynmillCase):
    LISTEN = "80:http,9100:metrics"
    LCORES = ("--lcores", f"(0-{WORKERS})@(0-1)")
    TIMEOUT_S = 300

    def per_worker(self):
        t = self.env.telemetry
        return [(t.query(f"/synmill/stats,{w}"), t.query(f"/synmill/states,{w}")) for w in range(WORKERS)]

    def ctl_metrics(self):
        ctl = os.path.join(harness.build_dir(), "apps", "synmill-ctl")
        r = subprocess.run([ctl, "--file-prefix", self.env.file_prefix, "metrics"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def app_metrics(self):
        r = self.env.ns_run(["curl", "-s", "-i", "--max-time", "30", f"http://{harness.SYNMILL_IP}:9100/metrics"],
                            timeout=60)
        head, _, body = r.stdout.decode().partition("\r\n\r\n")
        self.assertIn("200 OK", head.split("\r\n")[0])
        self.assertIn("Content-Type: text/plain; version=0.0.4", head)
        length = int([h for h in head.split("\r\n") if h.startswith("Content-Length:")][0].split(":")[1])
        self.assertEqual(length, len(body.encode()))
        return body

    def check_against(self, text, before, after):
        samples, families = parse(text)
        for fam in families:
            self.assertTrue(fam.name.startswith("synmill_"), fam.name)
            self.assertTrue(fam.documentation, f"{fam.name} has no HELP")
            self.assertIn(fam.type, ("counter", "gauge"), fam.name)
            self.assertIn(f"# HELP {fam.name}", text)
            self.assertIn(f"# TYPE {fam.name}", text)
        found = 0
        for w in range(WORKERS):
            (s0, st0), (s1, st1) = before[w], after[w]
            for stat, v0 in s0.items():
                if stat in SKIP:
                    continue
                v1 = s1[stat]
                if stat.startswith("drop_"):
                    reason = stat[5:]
                    keys = [k for k in samples if dict(k[1]).get("reason") == reason and
                            dict(k[1]).get("worker") == str(w)]
                    self.assertEqual(len(keys), 1, f"{stat} of worker {w}: {keys}")
                    key = keys[0]
                elif stat in ("mbufs_in_use", "mbufs_total"):
                    continue
                elif stat in GAUGES:
                    # A gauge, exported as one (no _total). The scrape's own
                    # connection holds timers and chunks that neither
                    # snapshot saw: present and not negative is what holds.
                    key = (f"synmill_worker_{stat}", frozenset({"worker": str(w)}.items()))
                    self.assertIn(key, samples, f"{stat} of worker {w}")
                    self.assertGreaterEqual(samples[key], 0, f"{key}")
                    self.assertEqual([f.type for f in families if f.name == key[0]], ["gauge"], key[0])
                    found += 1
                    continue
                else:
                    # port_rx_bytes: the worker's frame bytes; rx_bytes: TCP payload (both exist)
                    labels = frozenset({"worker": str(w)}.items())
                    tcp_key = (f"synmill_tcp_{stat}_total", labels)
                    worker_key = (f"synmill_worker_{stat[5:] if stat.startswith('port_') else stat}_total", labels)
                    key = tcp_key if not stat.startswith("port_") and tcp_key in samples else worker_key
                    self.assertIn(key, samples, f"{stat} of worker {w}")
                self.assertLessEqual(v0, samples[key], f"{key}")
                self.assertLessEqual(samples[key], v1, f"{key}")
                found += 1
            for state, v0 in st0.items():
                if state == "total":
                    continue
                key = ("synmill_tcp_connections", frozenset({"worker": str(w), "state": state}.items()))
                self.assertIn(key, samples)
                lo, hi = min(v0, st1[state]), max(v0, st1[state])
                self.assertTrue(lo <= samples[key] <= hi + 1, f"{key}: {samples[key]} not in {lo}..{hi}")  # +1: the scrape's own connection
                found += 1
        self.assertIn(("synmill_mbufs", frozenset()), samples)
        self.assertIn(("synmill_mbufs_in_use", frozenset()), samples)
        return samples, found

    def test_1_ctl_and_app_agree_with_telemetry(self):
        env = self.env
        r = env.client("curl_seq", timeout=240, n=40, budget=200)
        self.assertEqual(r["ok"], 40, r)
        self.wait_quiet(timeout=15)
        before = self.per_worker()
        ctl_text = self.ctl_metrics()
        after = self.per_worker()
        ctl_samples, found = self.check_against(ctl_text, before, after)
        print(f"\nsynmill-ctl metrics: {len(ctl_samples)} samples, {found} checked against telemetry; "
              f"sample:\n" + "\n".join(ctl_text.split("\n")[:12]))
        total_est = sum(v for (n, l), v in ctl_samples.items() if n == "synmill_tcp_established_total")
        self.assertGreaterEqual(total_est, 40)

        before = self.per_worker()
        app_text = self.app_metrics()
        after = self.per_worker()
        app_samples, _ = self.check_against(app_text, before, after)
        self.assertEqual(set(app_samples), set(ctl_samples), "the two texts name different samples")
        # The scrape itself was a connection synmill accepted (the text may predate it by
        # up to a millisecond: the snapshots it renders are published once a millisecond).
        harness.wait_until(lambda: self.env.stats()["established"] > total_est, 10, what="the scrape's connection")

    def test_2_telemetry_in_a_tight_loop_under_load(self):
        env = self.env
        result = {}
        load = threading.Thread(target=lambda: result.update(env.client("curl_seq", timeout=280, n=300, budget=240)))
        load.start()
        replies, bad = 0, []
        last = [None] * WORKERS
        deadline = time.monotonic() + 200
        while load.is_alive() and time.monotonic() < deadline:
            for w in range(WORKERS):
                s = env.telemetry.query(f"/synmill/stats,{w}")
                replies += 1
                # One worker's moment: every segment its stack saw arrived as a frame.
                if s["rx_segments"] > s["rx_packets"]:
                    bad.append(f"worker {w}: rx_segments {s['rx_segments']} > rx_packets {s['rx_packets']}")
                if last[w] is not None:
                    went_down = [k for k, v in s.items() if k not in SKIP and k not in GAUGES and v < last[w][k]]
                    if went_down:
                        bad.append(f"worker {w}: {went_down} went down")
                last[w] = s
            st = env.telemetry.query("/synmill/states")
            if st["total"] != sum(v for k, v in st.items() if k not in ("total", "LISTEN")):
                bad.append(f"states total {st['total']} != sum")
            rows = env.telemetry.query("/synmill/conns,200")
            if not isinstance(rows, list) or not rows or rows[0][0] != "local":
                bad.append(f"conns reply: {rows!r:.200}")
            replies += 2
        load.join(timeout=300)
        self.assertEqual(result.get("ok"), 300, result)
        self.assertEqual(bad[:5], [])
        self.assertGreater(replies, 100)
        print(f"\n{replies} telemetry replies under load, all consistent")
