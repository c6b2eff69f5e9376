"""Capture as README documents it: synmill on hugepages, `dpdk-dumpcap
--file-prefix P -w FILE` attached as a secondary process while the kernel's
curl fetches a page, then tshark reads the file and finds the handshake, the
request, the response and the close, with sequence numbers that chain.
Skipped where hugepages cannot be reserved (not root)."""
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Hugepages, HugepagesUnavailable, SynmillCase, SynmillEnv, run, wait_until

FIELDS = ["frame.number", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport", "tcp.flags", "tcp.seq_raw",
          "tcp.ack_raw", "tcp.len", "http.request.method", "http.response.code"]
SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08


@unittest.skipUnless(Hugepages.possible(), "cannot set /proc/sys/vm/nr_hugepages (not root?)")
class CaptureTest(SynmillCase):
    TIMEOUT_S = 240
    hp = None

    @classmethod
    def setUpClass(cls):
        try:
            cls.hp = cls.enterClassContext(Hugepages(512))
        except HugepagesUnavailable as e:
            raise unittest.SkipTest(str(e))
        cls.env = cls.enterClassContext(SynmillEnv("80:http", ("--grace", "1"), huge_dir=cls.hp.dir,
                                                   name=cls.__name__, huge_unlink=False))

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            for f in glob.glob(os.path.join(cls.hp.dir, f"{cls.env.file_prefix}map_*")):
                os.unlink(f)

    def test_capture_of_one_http_exchange(self):
        env = self.env
        out = tempfile.mkdtemp(prefix="synmill-capture-")
        pcap = os.path.join(out, "synmill.pcapng")
        log = open(os.path.join(harness.log_dir(), f"dumpcap-{env.tag}.log"), "wb")
        cap = subprocess.Popen(["dpdk-dumpcap", "--file-prefix", env.file_prefix, "-w", pcap, "-a", "duration:120"],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            # dumpcap writes the file's header once it is attached and capturing.
            wait_until(lambda: os.path.exists(pcap) and os.path.getsize(pcap) > 0 or cap.poll() is not None, 60,
                       what="dpdk-dumpcap to start")
            self.assertIsNone(cap.poll(), f"dpdk-dumpcap exited: {harness.tail(log.name)}")
            time.sleep(1)
            r = env.ns_run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                            f"http://{harness.SYNMILL_IP}/"], timeout=60)
            self.assertEqual(r.stdout.decode(), "200")
            self.wait_quiet(timeout=15)
            time.sleep(1)
        finally:
            if cap.poll() is None:
                os.kill(cap.pid, signal.SIGINT)
            try:
                cap.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(cap.pid, signal.SIGKILL)
                cap.wait()
            log.close()
        self.assertEqual(cap.returncode, 0, harness.tail(log.name))
        t = run(["tshark", "-r", pcap, "-Y", "tcp", "-T", "fields", "-E", "separator=|"] +
                sum([["-e", f] for f in FIELDS], []), timeout=60)
        rows = []
        for line in t.stdout.decode().strip().split("\n"):
            v = dict(zip(FIELDS, line.split("|")))
            v["flags"] = int(v["tcp.flags"], 16)
            for k in ("tcp.seq_raw", "tcp.ack_raw", "tcp.len"):
                v[k] = int(v[k] or 0)
            v["from_client"] = v["ip.src"] == harness.PEER_IP
            rows.append(v)
        summary = "\n".join(
            f"{r['frame.number']:>3} {'C->S' if r['from_client'] else 'S->C'} flags=0x{r['flags']:03x} "
            f"seq={r['tcp.seq_raw']} ack={r['tcp.ack_raw']} len={r['tcp.len']} "
            f"{r['http.request.method']}{r['http.response.code']}" for r in rows)
        print(f"\ntshark summary of {pcap}:\n{summary}")

        def first(pred, what):
            for r in rows:
                if pred(r):
                    return r
            self.fail(f"no {what} in the capture:\n{summary}")

        syn = first(lambda r: r["from_client"] and r["flags"] & (SYN | ACK) == SYN, "client SYN")
        synack = first(lambda r: not r["from_client"] and r["flags"] & (SYN | ACK) == SYN | ACK, "SYN-ACK")
        self.assertEqual(synack["tcp.ack_raw"], syn["tcp.seq_raw"] + 1, "SYN-ACK acknowledges the SYN")
        iss_c, iss_s = syn["tcp.seq_raw"], synack["tcp.seq_raw"]
        first(lambda r: r["from_client"] and r["flags"] & (SYN | ACK) == ACK and r["tcp.seq_raw"] == iss_c + 1
              and r["tcp.ack_raw"] == iss_s + 1, "handshake's final ACK")
        req = first(lambda r: r["http.request.method"] == "GET", "HTTP request")
        self.assertEqual(req["tcp.seq_raw"], iss_c + 1)
        self.assertEqual(req["tcp.ack_raw"], iss_s + 1)
        resp = first(lambda r: r["http.response.code"] == "200", "HTTP response")
        self.assertFalse(resp["from_client"])
        self.assertEqual(resp["tcp.seq_raw"], iss_s + 1)
        self.assertEqual(resp["tcp.ack_raw"], iss_c + 1 + req["tcp.len"], "the response acknowledges the request")
        c_end = iss_c + 1 + req["tcp.len"]
        s_end = iss_s + 1 + resp["tcp.len"]
        # curl closes first (HTTP/1.1 keep-alive: synmill waits), synmill answers with its FIN.
        cfin = first(lambda r: r["from_client"] and r["flags"] & FIN, "client FIN")
        self.assertEqual(cfin["tcp.seq_raw"], c_end)
        sfin = first(lambda r: not r["from_client"] and r["flags"] & FIN, "synmill FIN")
        self.assertEqual(sfin["tcp.seq_raw"], s_end)
        self.assertEqual(sfin["tcp.ack_raw"], c_end + 1, "synmill's FIN acknowledges the client's")
        first(lambda r: r["from_client"] and r["flags"] & (FIN | ACK | SYN) == ACK and r["tcp.seq_raw"] == c_end + 1
              and r["tcp.ack_raw"] == s_end + 1, "last ACK of synmill's FIN")
        self.assertFalse(any(r["flags"] & RST for r in rows), f"a RST in the capture:\n{summary}")
        shutil.rmtree(out)  # kept when a check failed


if __name__ == "__main__":
    unittest.main()
