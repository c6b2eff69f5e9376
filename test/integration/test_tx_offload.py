"""TX checksum offload over IPv6 and IPv4 (issue 15): synmill on net_tap with
--port-opt offloads=tx_ip_cksum,tx_tcp_cksum (net_tap advertises both and
completes them in its PMD), so every TCP frame leaves with
RTE_MBUF_F_TX_TCP_CKSUM and the pseudo-header sum (tx_cksum.hpp) instead of
its checksum. The kernel in the namespace checks each one for real: echo
byte-exact both ways over IPv6 and IPv4, curl -6, and no checksum error in
the kernel's counters (TcpInCsumErrors, Tcp6 included) nor in synmill's."""
import json
import re

import harness
from harness import SynmillCase, delta

SERVER6 = harness.SYNMILL_IP6
CLIENTS = 3
SIZE = 256 * 1024


class TxChecksumOffloadTest(SynmillCase):
    LISTEN = "80:http,7:echo"
    IPV6 = True
    EXTRA = ("--grace", "1", "--port-opt", "offloads=tx_ip_cksum,tx_tcp_cksum")

    def kernel_csum_errors(self):
        out = self.env.ns_run(["nstat", "-az", "TcpInCsumErrors"]).stdout.decode()
        m = re.search(r"TcpInCsumErrors\s+(\d+)", out)
        self.assertIsNotNone(m, out)
        return int(m.group(1))

    def echo(self, server):
        p = self.env.client_popen("echo", clients=CLIENTS, bytes=SIZE, port=7, budget=120, server=server)
        out, err = p.communicate(timeout=150)
        self.assertEqual(p.returncode, 0, err.decode(errors="replace")[-3000:])
        r = json.loads(out.decode().strip().splitlines()[-1])
        self.assertFalse(r["timed_out"], r)
        wrong = [c for c in r["results"] if not c["equal"] or c["received"] != SIZE]
        self.assertEqual(wrong, [], f"{len(wrong)} of {CLIENTS} clients got different bytes back")

    def test_1_offload_in_effect(self):
        # The port took both offloads (net_tap advertises them): the frames
        # below carry the flags, not software checksums.
        self.assertIn("offloads: tx_ip_cksum,tx_tcp_cksum; not advertised: none", self.env.log_text())

    def test_2_echo_ipv6_and_ipv4_checked_by_the_kernel(self):
        env = self.env
        errors_before = self.kernel_csum_errors()
        before = env.stats()
        self.echo(SERVER6)
        self.echo(harness.SYNMILL_IP)
        r = env.client("curl_seq", timeout=120, n=50, budget=100, url=f"http://[{SERVER6}]/", curl_args=["-6"])
        self.assertEqual(r["ok"], 50, r["bad"][:3])
        self.wait_quiet(timeout=15)
        after = env.stats()
        self.assertEqual(delta(after, before, "established"), 2 * CLIENTS + 50)
        self.assertEqual(delta(after, before, "closed_reset"), 0)
        self.assertGreaterEqual(delta(after, before, "tx_bytes"), 2 * CLIENTS * SIZE)
        self.assertEqual(self.kernel_csum_errors(), errors_before)
        for k in ("drop_bad_ip_checksum", "drop_bad_tcp_checksum", "drop_parse_error"):
            self.assertEqual(int(after.get(k, 0)), 0, k)
