"""SYN-flood survival: synmill-gen floods SYNs from random spoofed sources
(198.18.128.0/17) as fast as it can, on a second tap bridged with synmill's,
while the kernel in the namespace makes 1,000 curl requests. At least 99.9%
succeed; synmill's memory stays flat and its flood state is bounded (the
backlog bounds half-open entries; SYN cookies answer the rest)."""
import json
import os
import signal
import subprocess
import time

import harness
from harness import SynmillCase, wait_until

REQUESTS = 1000
BACKLOG = 256
FLOOD_SOURCES = "198.18.128.1-198.18.255.254"


class SynFloodTest(SynmillCase):
    LISTEN = "80:http"
    EXTRA = ("--grace", "1", "--backlog", str(BACKLOG), "--syncookies", "overflow")
    BRIDGE = True
    TIMEOUT_S = 450

    def start_flood(self):
        env = self.env
        self.gen_tap = f"smg{os.getpid() % 100000}"
        self.gen_prefix = f"synmill-it-gen-{os.getpid()}"
        gen = os.path.join(harness.build_dir(), "apps", "synmill-gen")
        self.gen_log = os.path.join(harness.log_dir(), f"gen-flood-{os.getpid()}.log")
        cmd = [gen, "-l", "1", "--no-pci", "--no-huge", "-m", "512", "--file-prefix", self.gen_prefix,
               f"--vdev=net_tap0,iface={self.gen_tap}", "--", "--mode", "syn", "--random",
               "--addr", "198.18.0.3/24", "--src-addrs", FLOOD_SOURCES, "--dst", f"{harness.SYNMILL_IP}:80",
               "--duration", "400", "--drain", "0.2"]
        log = open(self.gen_log, "wb")
        self.gen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        # Join the bridge once the generator's port has started (earlier, its start fails).
        wait_until(lambda: b" worker(s), " in open(self.gen_log, "rb").read() or self.gen.poll() is not None,
                   30, what="synmill-gen start")
        self.assertIsNone(self.gen.poll(), open(self.gen_log, "rb").read().decode(errors="replace")[-2000:])
        env.join_bridge(self.gen_tap)
        # The kernel's queue toward synmill's tap takes bursts of the flood.
        env.ns_run(["ip", "link", "set", env.tap, "txqueuelen", "10000"])

    def stop_flood(self):
        if self.gen.poll() is None:
            self.gen.send_signal(signal.SIGINT)
            try:
                self.gen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.gen.kill()
                self.gen.wait()
        subprocess.run(["rm", "-rf", f"/var/run/dpdk/{self.gen_prefix}"], check=False)
        return open(self.gen_log, "rb").read().decode(errors="replace")

    def test_curl_through_a_syn_flood(self):
        env = self.env
        before = env.stats()
        self.start_flood()
        try:
            # The flood is on: synmill sees SYNs by the tens of thousands and falls back to cookies.
            wait_until(lambda: int(env.stats()["cookies_sent"]) - int(before["cookies_sent"]) > 20000, 60,
                       what="the flood to fill the backlog and bring cookies")
            rss0 = env.rss_kib()
            peak_rss, samples = rss0, []  # (open connections, SYN_RCVD, states) twice a second
            # curl with TCP's own retries (120 s: SYNs at 0, 1, 3, 7, 15, 31, 63 s), 8 at a time: the
            # flood's packets (about half of what reaches the tap toward synmill is dropped
            # there) and two busy-polling processes share the CPUs with them.
            p = env.client_popen("curl_par", n=REQUESTS, parallel=8, max_time=120, budget=330)
            while p.poll() is None:
                st = env.states()
                samples.append((harness.open_count(st), int(st.get("SYN_RCVD", 0)), st))
                peak_rss = max(peak_rss, env.rss_kib())
                time.sleep(0.5)
            out, err = p.communicate()
            flood = env.stats()
            drops = env.ns_run(["ip", "-s", "-j", "link", "show", env.tap]).stdout.decode()
        finally:
            gen_log = self.stop_flood()
        r = json.loads(out.decode().strip().splitlines()[-1])
        syn_in = int(flood["syn_in"]) - int(before["syn_in"])
        print(f"\n    flood: {syn_in} SYNs in, {int(flood['cookies_sent']) - int(before['cookies_sent'])} cookies; "
              f"curl {r['ok']}/{REQUESTS} in {r['elapsed']:.0f} s; open connections peak "
              f"{max(x[0] for x in samples)} (SYN_RCVD {max(x[1] for x in samples)}, LAST_ACK "
              f"{max(int(x[2].get('LAST_ACK', 0)) for x in samples)}); "
              f"RSS {rss0} -> peak {peak_rss} KiB; tap toward synmill dropped "
              f"{json.loads(drops)[0]['stats64']['tx']['dropped']}")
        self.assertGreaterEqual(r["ok"], REQUESTS * 999 // 1000, f"curl failures: {r['bad']}\n{gen_log[-1500:]}")
        print(f"    curl failures: {r['bad']}")
        self.assertGreater(syn_in, 100 * REQUESTS, "the flood was not much of a flood")
        # Flood state is bounded at every sample: half-open entries by the
        # backlog, established ones by the curls in flight. (Legitimate closes
        # may linger in LAST_ACK while the flood drops their final ACKs at the
        # tap; they are the clients' connections, reclaimed by FIN retries, and
        # reported above, not checked.)
        self.assertTrue(samples, "no samples")
        self.assertLessEqual(max(x[1] for x in samples), BACKLOG, "SYN_RCVD above the backlog")
        est = max(int(x[2].get("ESTABLISHED", 0)) for x in samples)
        self.assertLessEqual(est, 8 + 8, f"ESTABLISHED peaked at {est} with 8 curls in flight")
        self.assertLessEqual(peak_rss - rss0, 4096, "synmill's memory grew during the flood")
        self.assertGreater(int(flood["cookies_validated"]) - int(before["cookies_validated"]), 0,
                           "no curl connection came in through a cookie")
