"""Zero-window squatters (issue 10): 2,000 kernel connections to send:N that
never read (a small receive buffer: the kernel advertises a zero window
after a few KiB) pin synmill's send pool, while kernel curls fetch from http
and a kernel reader downloads from send:N. Every curl and the download
succeed; every squatter (data queued toward a zero window) is reset once
--persist-timeout passed; after the squatters are gone
(reset, or closed by the test), connections, chunks and timers return to
their starting values."""
import json
import time

import harness
from harness import SynmillCase, delta, open_count, wait_until

SQUATTERS = 2000
PERSIST_S = 5
CHUNKS = 16384  # 32 MiB of 2 KiB chunks: about 480 squatters at 64 KiB fill it to the reserve
DOWNLOAD = 16 << 20  # send:N with N = this


class SquattersTest(SynmillCase):
    LISTEN = f"80:http,8000:send:{DOWNLOAD}"
    EXTRA = ("--grace", "1", "--send-chunks", str(CHUNKS), "--persist-timeout", str(PERSIST_S),
             "--max-conns", "8192")
    TIMEOUT_S = 300

    def test_squatters_do_not_deny_service_and_are_reclaimed(self):
        env = self.env
        before = env.stats()
        sq = env.client_popen("squatters", n=SQUATTERS, port=8000, rcvbuf=4096, wait=120)
        try:
            line = json.loads(sq.stdout.readline() or "{}")
            self.assertEqual(line.get("connected"), SQUATTERS, f"{line} {sq.stderr.read()[-2000:] if sq.poll() else ''}")
            print(f"\n    {SQUATTERS} squatters connected in {line['elapsed']:.1f} s", flush=True)

            # The pool fills: the first squatters queue their full send buffer,
            # the rest only their minimum.
            def pressed():
                s = env.stats()
                return [s] if int(s["squatters"]) > 0 and int(s["chunks_in_use"]) >= CHUNKS * 7 // 8 - 64 else None
            during = wait_until(pressed, 20, interval=0.2, what="the squatters to fill the send pool")[0]
            print(f"    pool pressed: {during['chunks_in_use']} of {CHUNKS} chunks in use, "
                  f"{during['squatters']} squatters flagged", flush=True)

            # Service for everyone else, while they squat.
            t0 = time.monotonic()
            r = env.client("curl_par", timeout=120, n=200, parallel=4, max_time=5, budget=90)
            self.assertEqual(r["ok"], r["n"], r)
            d = env.client("server_close", timeout=60, port=8000, n=DOWNLOAD, budget=40)
            self.assertEqual(d["received"], DOWNLOAD, d)
            self.assertTrue(d["equal"], d)
            print(f"    200 curls and a 16 MiB download succeeded in {time.monotonic() - t0:.1f} s", flush=True)

            out, err = sq.communicate(timeout=150)
        finally:
            if sq.poll() is None:
                sq.kill()
                sq.wait()
        res = json.loads(out.decode().strip().splitlines()[-1])
        after = env.stats()
        persist = delta(after, before, "reclaim_persist_timeout")
        pool = delta(after, before, "reclaim_squatter_pool")
        print(f"    squatters: {res['closed']} of {SQUATTERS} reset by synmill within {res['elapsed']:.1f} s "
              f"({res['errors']}); synmill: {persist} persist timeouts, {pool} reset for pool room", flush=True)
        # Every squatter ends: reset by synmill, in waves as each group grows
        # beyond its minimum when the last one's chunks come back.
        self.assertEqual(res["closed"], SQUATTERS, res)
        self.assertEqual(res["errors"].get("ECONNRESET", 0), SQUATTERS, res)
        self.assertEqual(persist + pool, SQUATTERS, (persist, pool))
        self.assertGreater(persist, 0)

        # Back to where it started.
        self.wait_states(lambda s: open_count(s) == 0, timeout=20, what="no open connection")
        final = wait_until(lambda: [s] if int((s := env.stats())["chunks_in_use"]) == int(before["chunks_in_use"])
                           else None, 10, what="the send pool to return")[0]
        for k in ("squatters", "orphans", "timers_armed"):
            self.assertEqual(int(final[k]), int(before[k]), k)

