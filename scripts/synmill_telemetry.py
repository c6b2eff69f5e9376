"""DPDK telemetry client (v2 socket: SOCK_SEQPACKET, a greeting JSON, one
reply per command), shared by the integration tests and the bench harness."""
import json
import os
import socket
import time


class Telemetry:
    def __init__(self, file_prefix, runtime_root="/var/run/dpdk"):
        self.path = os.path.join(runtime_root, file_prefix, "dpdk_telemetry.v2")

    def available(self):
        return os.path.exists(self.path)

    def query(self, command, timeout=5.0):
        """Returns the value of the reply's single key (the command), parsed.
        A refused connect is retried until `timeout`: the telemetry thread
        shares a CPU with busy-polling cores and its listen backlog is short."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._query_once(command, timeout)
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _query_once(self, command, timeout):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(timeout)
        try:
            s.connect(self.path)
            greeting = json.loads(s.recv(65536).decode())
            max_len = int(greeting.get("max_output_len", 16384))
            s.send(command.encode())
            raw = s.recv(max(max_len, 65536))
        finally:
            s.close()
        reply = json.loads(raw.decode())
        key = command.split(",", 1)[0]
        if not isinstance(reply, dict) or key not in reply:
            raise RuntimeError(f"telemetry {command!r}: unexpected reply {raw[:300]!r}")
        return reply[key]
