"""synmill --connect: active opens at start-up toward the kernel in the
namespace. Four to a kernel listener reach ESTABLISHED (SYN_SENT -> SYN-ACK ->
ACK, RFC 9293 §3.5); two to a closed port are refused by the kernel's RST."""
import subprocess

import harness
from harness import SynmillCase, wait_until

# Bound to the wildcard address: it listens before synmill starts, when the
# namespace has no 198.18.0.1 yet (the tap arrives with synmill). A SYN
# that reached the port before the listener would be refused by RST, which
# the test would count as a failure of synmill's.
LISTENER = (
    "import socket,time\n"
    "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('0.0.0.0', 7000)); s.listen(16); print('listening', flush=True)\n"
    "conns=[]\n"
    "s.settimeout(60)\n"
    "while len(conns) < 4: conns.append(s.accept()[0])\n"
    "print('accepted', len(conns), flush=True); time.sleep(60)\n")


class ConnectTest(SynmillCase):
    LISTEN = "80:http"
    EXTRA = ("--grace", "1", "--connect", f"{harness.PEER_IP}:7000x4", "--connect", f"{harness.PEER_IP}:7001x2")

    listener = None

    @classmethod
    def before_start(cls, env):
        p = subprocess.Popen(["ip", "netns", "exec", env.ns, harness.PYTHON, "-c", LISTENER],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)

        def stop():
            p.kill()
            p.wait()
        cls.addClassCleanup(stop)  # also when synmill's start fails
        if b"listening" not in p.stdout.readline():
            raise RuntimeError(f"listener did not start: {p.stderr.read()[-1000:]!r}")
        cls.listener = p

    def test_active_opens(self):
        env = self.env
        # synmill retries its SYNs (RTO) until the tap is up in the namespace.
        wait_until(lambda: int(env.states().get("ESTABLISHED", 0)) == 4, 20, what="4 established")
        self.assertIn(b"accepted 4", self.listener.stdout.readline())
        st = env.stats()
        self.assertEqual(int(st["active_opens"]), 6)
        wait_until(lambda: int(env.stats()["closed_refused"]) == 2, 20, what="2 refused by RST")
        rows = env.conn_rows(f"{harness.PEER_IP}:7000", f"{harness.SYNMILL_IP}:40000")
        self.assertTrue(rows, "connection from port 40000 not in /synmill/conns")
