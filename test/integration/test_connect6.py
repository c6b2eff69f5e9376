"""synmill --connect over IPv6 (issue 15): active opens at start-up toward the
kernel in the namespace, from synmill's IPv6 address. synmill resolves the
peer by Neighbor Discovery (RFC 4861 §7.2.2: an NS to its solicited-node
group, learned from the NA), then four connections to a kernel listener on
[2001:2::2]:7000 reach ESTABLISHED (SYN_SENT -> SYN-ACK -> ACK, RFC 9293
§3.5) and echo what the kernel sends byte for byte; two to a closed port
are refused by the kernel's RST. Counters and states as for IPv4
(test_connect.py)."""
import json
import subprocess

import harness
from harness import SynmillCase, delta, wait_until

# A second address of the namespace's, added only once the listener is up
# (bound before it exists: ip_nonlocal_bind), so that synmill cannot resolve
# the peer, and send its SYNs, before there is a listener to answer them (a
# SYN the kernel refuses with RST ends the open: RFC 9293 §3.10.7.3).
PEER6 = "2001:2::3"
SERVER6 = harness.SYNMILL_IP6
SIZE = 65536

# Accepts four connections, sends SIZE random bytes on each, reads them back
# (synmill serves its --connect connections with echo), prints one JSON line.
LISTENER = (
    "import json,os,socket,time\n"
    "s=socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    f"s.bind(('{PEER6}', 7000)); s.listen(16); print('listening', flush=True)\n"
    "s.settimeout(60)\n"
    "conns=[s.accept() for _ in range(4)]\n"
    "print('accepted', len(conns), flush=True)\n"
    "res=[]\n"
    "for c,a in conns:\n"
    f"  c.settimeout(60); d=os.urandom({SIZE}); c.sendall(d); got=bytearray()\n"
    f"  while len(got) < {SIZE}:\n"
    "    b=c.recv(65536)\n"
    "    if not b: break\n"
    "    got+=b\n"
    "  res.append({'peer': a[0], 'port': a[1], 'sent': len(d), 'received': len(got), 'equal': bytes(got)==d})\n"
    "print(json.dumps(res), flush=True); time.sleep(60)\n")


class Connect6Test(SynmillCase):
    LISTEN = "80:http"
    IPV6 = True
    EXTRA = ("--grace", "1", "--connect", f"[{PEER6}]:7000x4", "--connect", f"[{PEER6}]:7001x2")

    def test_active_opens_over_ipv6(self):
        env = self.env
        env.ns_run(["sysctl", "-q", "-w", "net.ipv6.ip_nonlocal_bind=1"])
        p = subprocess.Popen(["ip", "netns", "exec", env.ns, harness.PYTHON, "-c", LISTENER],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            self.assertIn(b"listening", p.stdout.readline())
            env.ns_run(["ip", "-6", "addr", "add", f"{PEER6}/{harness.PREFIX_LEN6}", "dev", env.tap, "nodad"])
            # synmill retries its SYNs (RTO) until the listener is up.
            wait_until(lambda: int(env.states().get("ESTABLISHED", 0)) == 4, 30, what="4 established")
            self.assertIn(b"accepted 4", p.stdout.readline())
            line = p.stdout.readline()
            self.assertTrue(line, p.stderr.read().decode(errors="replace")[-2000:] if p.poll() is not None else "")
            results = json.loads(line)
            self.assertEqual(len(results), 4)
            for r in results:
                self.assertEqual(r["peer"], SERVER6, r)  # from our IPv6 address
                self.assertTrue(r["equal"] and r["sent"] == SIZE and r["received"] == SIZE, r)
            self.assertEqual(sorted(r["port"] for r in results), [40000, 40001, 40002, 40003])
            st = env.stats()
            self.assertEqual(int(st["active_opens"]), 6)
            wait_until(lambda: int(env.stats()["closed_refused"]) == 2, 30, what="2 refused by RST")
            # The peer was resolved by ND: learned from its NA (or its own NS).
            st = env.stats()
            self.assertGreaterEqual(int(st["nd_learned"]), 1)
            self.assertEqual(int(st["established"]), 4)
            # Workers publish their counters about once a millisecond of
            # their own loop; with four lcores on two CPUs one may not have
            # run since it echoed its last bytes (clean-clone CI: 196608).
            wait_until(lambda: int(env.stats()["rx_bytes"]) >= 4 * SIZE, 10, what="rx_bytes published")
            rows = env.conn_rows(f"[{PEER6}]:7000", f"[{SERVER6}]:40000")
            self.assertTrue(rows, f"[{SERVER6}]:40000 not in /synmill/conns: {env.conns()}")
            for port in range(40000, 40004):
                q = env.telemetry.query(f"/synmill/state,[{SERVER6}]:{port},[{PEER6}]:7000")
                self.assertEqual(q, {"state": "ESTABLISHED"}, port)
            # The kernel's side: four established IPv6 connections from our ports.
            ss = env.ns_run(["ss", "-6", "-Htn", "state", "established"]).stdout.decode()
            peers = {row.split()[-1] for row in ss.splitlines() if row.split() and row.split()[-2] == f"[{PEER6}]:7000"}
            self.assertEqual(peers, {f"[{SERVER6}]:{p}" for p in range(40000, 40004)}, ss)
            for k in ("drop_bad_tcp_checksum", "drop_parse_error", "drop_not_for_us", "drop_bad_source"):
                self.assertEqual(int(st.get(k, 0)), 0, k)
        finally:
            p.kill()
            p.wait()



class Connect6DispatchTest(Connect6Test):
    """The same with three workers behind software dispatch: each opens the
    connections whose flows hash to it, after Neighbor Discovery on worker 0
    told it the peer's MAC (NeighbourNote)."""
    LCORES = ("--lcores", "(0-3)@(0-1)")
