"""Echo: 50 concurrent kernel TCP connections, 1 MiB each way, byte-exact."""
import json

from harness import SynmillCase, delta

CLIENTS = 50
SIZE = 1 << 20

class EchoTest(SynmillCase):
    LISTEN = "7:echo"
    TIMEOUT_S = 200

    def test_50_concurrent_clients_1MiB_each(self):
        env = self.env
        before = env.stats()
        p = env.client_popen("echo", clients=CLIENTS, bytes=SIZE, port=7, sync=True, budget=120)
        try:
            line = p.stdout.readline()
            if not line:  # the client ended before connecting all: show why
                self.fail(f"echo client ended early: {p.stderr.read().decode(errors='replace')[-2000:]}")
            self.assertEqual(json.loads(line)["connected"], CLIENTS)
            # All 50 are open at once, before any data moves.
            states = env.states()
            self.assertEqual(int(states.get("ESTABLISHED", 0)), CLIENTS, states)
            p.stdin.write(b"go\n")
            p.stdin.flush()
            out, err = p.communicate(timeout=150)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, err.decode(errors="replace")[-3000:])
        r = json.loads(out.decode().strip().splitlines()[-1])
        self.assertFalse(r["timed_out"], "echo clients did not finish within 120 s")
        wrong = [c for c in r["results"] if not c["equal"]]
        self.assertEqual(wrong, [], f"{len(wrong)} of {CLIENTS} clients got different bytes back")
        self.assertTrue(all(c["sent"] == SIZE and c["received"] == SIZE for c in r["results"]))

        self.wait_quiet(timeout=15)
        after = env.stats()
        self.assertEqual(delta(after, before, "established"), CLIENTS)
        self.assertEqual(delta(after, before, "rx_bytes"), CLIENTS * SIZE)
        self.assertEqual(delta(after, before, "tx_bytes"), CLIENTS * SIZE)

