"""A user's dperf binary (baidu/dperf) in the bench: its config files, the
process on a memif port, and its once-a-second statistics.

dperf is not part of synmill and nothing here builds it. The binary must run
on a net_memif vdev: dperf 1.9 takes PCI addresses only on its `port` lines
and builds its own EAL arguments, so a binary for this bench must also accept
a vdev name (`net_memif0`) as the port and append the words of the
environment variable DPERF_EAL_ARGS to its EAL arguments (this file passes
--no-pci, --no-huge, -m, its own --file-prefix and the --vdev there).

dperf prints, once a second, a block starting `seconds N   cpuUsage U ...`
(U: the worker's busy share of that second in whole percent, truncated; a
busy iteration is one that received packets, as synmill's busy_cycles) and
ending with an `ierrors` line. Follower reads those blocks as they appear
and stamps each with the monotonic time it was seen."""
import os
import re
import shutil
import signal
import subprocess
import time

import procs

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PAIR = re.compile(r"([A-Za-z0-9()]+)\s+(\[?[0-9][0-9,.]*)")

CLIENT_NET = ("198.18.0.10", 16)  # dperf's client addresses: 198.18.0.10-25
SERVER_IP = procs.SERVER_IP       # 198.18.0.2, as synmill's --addr
HTTP_PORT = 80
SLOW_START = 10                   # dperf's minimum: the client ramps up over this many seconds
DELAY_SEC = 4                     # dperf prints this many blocks after it stops launching


def client_config(cpu, rate, duration):
    """dperf's HTTP client: `rate` connections/s after the slow start, for
    `duration` seconds, from 16 addresses to SERVER_IP:80, one GET each."""
    return "\n".join([
        "mode        client",
        "protocol    http",
        f"cpu         {cpu}",
        f"duration    {int(duration)}s",
        f"slow_start  {SLOW_START}",
        f"cps         {int(rate)}",
        f"port        net_memif0  {CLIENT_NET[0]}  {SERVER_IP}",
        f"client      {CLIENT_NET[0]}  {CLIENT_NET[1]}",
        f"server      {SERVER_IP}  1",
        f"listen      {HTTP_PORT}  1",
        ""])


def server_config(cpu, duration):
    """dperf's HTTP server on SERVER_IP:80 (its default response, ~100 bytes,
    as synmill's http app)."""
    return "\n".join([
        "mode        server",
        "protocol    http",
        f"cpu         {cpu}",
        f"duration    {int(duration)}s",
        f"port        net_memif0  {SERVER_IP}  {CLIENT_NET[0]}",
        f"client      {CLIENT_NET[0]}  {CLIENT_NET[1]}",
        f"server      {SERVER_IP}  1",
        f"listen      {HTTP_PORT}  1",
        ""])


def number(text):
    return int(text.strip("[").replace(",", "").split(".")[0])


def parse_block(lines):
    """{name: int} from one block's lines (`seconds`, `cpuUsage`, `pktRx`,
    `skOpen`, `http2XX`, `synRt`, ...)."""
    out = {}
    for line in lines:
        for name, value in PAIR.findall(ANSI.sub("", line)):
            try:
                out[name] = number(value)
            except ValueError:
                pass
    return out


class Follower:
    """Reads a dperf log as it grows: blocks (with the time each was seen)
    and, once dperf prints them, the totals."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = ""
        self.current = None  # lines of the block being read
        self.blocks = []     # (monotonic time seen, {name: int})
        self.total_lines = None

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        self.offset += len(data)
        text = self.partial + data.decode(errors="replace")
        lines = text.split("\n")
        self.partial = lines.pop()
        now = time.monotonic()
        for line in lines:
            clean = ANSI.sub("", line).strip()
            if clean.startswith("Total Numbers"):
                self.total_lines = []
                self.current = None
            elif self.total_lines is not None:
                self.total_lines.append(clean)
            elif clean.startswith("seconds "):
                self.current = [clean]
            elif self.current is not None:
                self.current.append(clean)
                if clean.startswith("ierrors"):
                    self.blocks.append((now, parse_block(self.current)))
                    self.current = None

    def block(self, second):
        for t, b in self.blocks:
            if b.get("seconds") == second:
                return t, b
        return None

    def totals(self):
        return parse_block(self.total_lines) if self.total_lines else None


class Dperf:
    """One dperf process on the memif link (its core is in its config), with
    its own file prefix."""

    def __init__(self, binary, name, conf_text, memif, role, prefix):
        self.name = name
        self.prefix = prefix
        self.conf = os.path.join(procs.log_dir(), f"{name}.conf")
        with open(self.conf, "w") as f:
            f.write(conf_text)
        env = dict(os.environ)
        env["DPERF_EAL_ARGS"] = " ".join(["--no-pci", "--no-huge", "-m", "2048", "--file-prefix", prefix,
                                          memif.vdev(role)])
        path = os.path.join(procs.log_dir(), f"{name}.log")
        self.log = open(path, "wb")
        self.log.write((f"$ DPERF_EAL_ARGS='{env['DPERF_EAL_ARGS']}' {binary} -c {self.conf}\n").encode())
        self.log.flush()
        # stdbuf: a block is in the log the moment dperf prints it.
        self.proc = subprocess.Popen(["stdbuf", "-oL", binary, "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.proc.log_path = path
        procs.LIVE.append(self.proc)
        self.follower = Follower(path)

    def poll(self):
        self.follower.poll()
        return self.proc.poll()

    def wait_started(self, timeout):
        """Until dperf has set up its sockets (it then waits for its peer:
        its first block comes once the gateway's MAC is known)."""
        procs.wait_for_line(self.proc, "socket allocation succeeded", timeout)

    def stop(self, timeout=DELAY_SEC + 10):
        """SIGINT (dperf stops, prints DELAY_SEC more blocks and its totals),
        then SIGKILL after `timeout`."""
        rc = procs.stop(self.proc, signal.SIGINT, timeout=timeout)
        self.follower.poll()
        self.log.close()
        shutil.rmtree(os.path.join("/var/run/dpdk", self.prefix), ignore_errors=True)
        return rc
