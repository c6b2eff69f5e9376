#!/usr/bin/python3
"""Overload without collapse (issue 10), over net_memif: synmill (core 0)
against synmill-gen (core 1), both real DPDK processes.

  capacity   synmill's answered connections/s with the generator at its
             maximum rate (measured here, every run: the machine is noisy)
  overload   3x capacity for 10 s with the minimal-client behaviours (no
             TIME_WAIT, 10 % of final ACKs dropped, retransmitted FINs
             ignored, fixed 200 ms RTO, 2 retries), then 50 % of capacity for
             10 s: from 2 s into the second phase no connection fails; orphans
             never exceed their bound; afterwards every per-state count,
             table and pool is back at its starting value
  stalls     80 % of capacity for 10 s, synmill stopped (SIGSTOP) for 300 ms
             three times: no failures, throughput back after each stall,
             both sides' counters account for every connection
  reuse      20 connections in a row from one source port, the generator
             never answering synmill's FIN: each SYN replaces the LAST_ACK
             orphan its predecessor left, and is established
  flaps      80 % of capacity for 10 s while the generator's memif side
             disconnects and reconnects 20 times: synmill stays up, sees
             every reconnect, serves after it; pools back at the end

The aims (answered at 3x capacity / at capacity; seconds to zero failures
after the load falls) are printed, not checked: timings are not tests.

On this 2-core machine the generator, not synmill, bounds the pair's rate
(synmill's core is mostly idle at "capacity"), so 3x that offered load is
not 3x what synmill can take. --cpu-share F puts synmill in a CPU cgroup
(v2 cpu.max or v1 cpu.cfs_quota_us) limited to F of one core for the
capacity and overload runs: synmill's core then runs out first, and the
3x load is a real overload. The aim is measured that way.

    test/overload/overload.py [--build DIR] [--only reuse,overload,stalls,flaps] [--cpu-share F]"""
import argparse
import atexit
import os
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bench", "harness"))
import procs  # noqa: E402

TAG = os.environ.get("SYNMILL_TEST_TAG", "ovl")
PORT = 80  # synmill's http app; the generator sends "GET / HTTP/1.1 ... Connection: close" (--http close)
# The http app's default reply with "Connection: close" (lib/tcp/apps/http.cpp): the generator
# closes once it has all of it.
BODY = "Hello from synmill\n"
RESPONSE = len(f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(BODY)}\r\n"
               f"Connection: close\r\n\r\n{BODY}")
STATUS = re.compile(r"^\[\s*([\d.]+)s\] .* est (\d+)/s .* fail (\d+)(?: \(([^)]*)\))? ")
REUSE_PORT = 7  # echo: the client closes first, synmill (CLOSE_WAIT -> LAST_ACK) waits for its final ACK
ORPHAN_STATES = ("FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "LAST_ACK")
MINIMAL_CLIENT = ["--no-time-wait", "--drop-final-acks", "0.1", "--ignore-fin-rtx", "--rto", "200", "--retries", "2"]
FAILURES = []


def check(what, ok, detail=""):
    print(f"overload: {'ok  ' if ok else 'FAIL'} {what} {detail}", flush=True)
    if not ok:
        FAILURES.append(what)


def synmill_help(build):
    return subprocess.run([os.path.join(build, "apps", "synmill"), "--help"], capture_output=True,
                          text=True).stdout


class CpuLimit:
    """A CPU cgroup that holds a process to `share` of one core: cgroup v2
    (cpu.max) where its cpu controller is enabled, else v1 (cpu.cfs_*)."""
    PERIOD_US = 10000

    def __init__(self, name, share):
        self.path = None
        quota = max(1000, int(share * self.PERIOD_US))
        v2 = "/sys/fs/cgroup"
        if "cpu" in open_text(os.path.join(v2, "cgroup.controllers")).split():
            with open(os.path.join(v2, "cgroup.subtree_control"), "w") as f:
                f.write("+cpu")
            self.path = os.path.join(v2, f"synmill-{name}")
            os.makedirs(self.path, exist_ok=True)
            with open(os.path.join(self.path, "cpu.max"), "w") as f:
                f.write(f"{quota} {self.PERIOD_US}")
        elif os.path.isdir("/sys/fs/cgroup/cpu") and os.path.exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"):
            self.path = os.path.join("/sys/fs/cgroup/cpu", f"synmill-{name}")
            os.makedirs(self.path, exist_ok=True)
            with open(os.path.join(self.path, "cpu.cfs_period_us"), "w") as f:
                f.write(str(self.PERIOD_US))
            with open(os.path.join(self.path, "cpu.cfs_quota_us"), "w") as f:
                f.write(str(quota))
        else:
            print("overload: --cpu-share: no cgroup cpu controller here (v2 cpu.max or v1 cpu.cfs_quota_us); "
                  "synmill runs with a whole core, and the generator bounds the 3x load", flush=True)

    def add(self, pid):
        if self.path is None:
            return
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def throttled_ms(self):
        if self.path is None:
            return 0.0
        for line in open_text(os.path.join(self.path, "cpu.stat")).splitlines():
            k, _, v = line.partition(" ")
            if k == "throttled_usec":
                return int(v) / 1000
            if k == "throttled_time":  # v1: ns
                return int(v) / 1e6
        return 0.0

    def remove(self):
        if self.path and os.path.isdir(self.path):
            try:
                os.rmdir(self.path)  # empty once the process exited
            except OSError:
                pass


def open_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


CPU_SHARE = None  # --cpu-share


class Run:
    """One synmill on its own memif link; gen runs against it."""

    def __init__(self, build, name, extra=(), limit=False):
        self.build = build
        self.name = f"{TAG}-{name}"
        self.memif = procs.Memif(self.name)
        self.memif.cleanup()
        # The http app closes first: a 1 s TIME_WAIT lets the tables empty within the test.
        opts = ["--listen", f"{PORT}:http,{REUSE_PORT}:echo", "--time-wait", "1", "--status-interval", "1"] + \
            list(extra)
        self.sm = procs.Synmill(build, self.name, self.memif, opts)
        self.cpu = None
        if limit and CPU_SHARE:
            self.cpu = CpuLimit(self.name, CPU_SHARE)
            self.cpu.add(self.sm.proc.pid)
        self.before_stats = self.sm.stats()
        self.before_states = self.sm.states()

    def gen(self, args, timeout, during=None, every=0.5, http=True):
        """Runs synmill-gen to the end; `during(t)` is called every `every`
        seconds with the seconds since the gen's first status line (None
        before). Returns (JSON result, [(t, est/s, failures so far, {reason: so far})])."""
        holder = {}

        def after_start(p):
            holder["p"] = p
            if during is None:
                return

            def sample():
                t0 = None
                while p.poll() is None:
                    if t0 is None and "] syn " in procs.log_text(p):
                        t0 = time.monotonic() - 1.0  # the first status line comes 1 s into the run
                    during(None if t0 is None else time.monotonic() - t0)
                    time.sleep(every)
            threading.Thread(target=sample, daemon=True).start()
        res, _, _ = procs.run_gen(self.build, self.name, self.memif.vdev("client"),
                                  ["--mode", "connect", "--close", "client", "--report-every", "1"] +
                                  (["--dst", f"{procs.SERVER_IP}:{PORT}", "--http", "close", "--response", str(RESPONSE)]
                                   if http else ["--dst", f"{procs.SERVER_IP}:{REUSE_PORT}", "--request", "64",
                                                 "--response", "64"]) + args,
                                  timeout=timeout, after_start=after_start)
        lines = []
        for line in procs.log_text(holder["p"]).splitlines():
            m = STATUS.match(line)
            if m:
                words = (m.group(4) or "").split()
                reasons = {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2)}
                lines.append((float(m.group(1)), int(m.group(2)), int(m.group(3)), reasons))
        return res, lines

    def settle(self, timeout=60):
        """Waits until synmill holds no connection (bounded); returns its states."""
        deadline = time.monotonic() + timeout
        states = self.sm.states()
        while int(states.get("total", 1)) != 0 and time.monotonic() < deadline:
            time.sleep(0.5)
            states = self.sm.states()
        return states

    def check_idle_again(self, what):
        states = self.settle()
        after = self.sm.stats()
        check(f"{what}: every per-state count back at its start",
              all(int(states.get(k, 0)) == int(self.before_states.get(k, 0)) for k in states),
              str({k: v for k, v in states.items() if int(v)}))
        for key in ("mbufs_in_use", "chunks_in_use", "timers_armed", "time_wait_entries"):
            if key in after:
                check(f"{what}: {key} back at its start", int(after[key]) == int(self.before_stats[key]),
                      f"({self.before_stats[key]} -> {after[key]})")
        return after

    def stop(self):
        rc = self.sm.stop()
        self.memif.cleanup()
        if self.cpu is not None:
            print(f"overload: {self.name}: synmill throttled {self.cpu.throttled_ms():.0f} ms by its "
                  f"{CPU_SHARE:.0%} CPU share", flush=True)
            self.cpu.remove()
        return rc


def orphans(states):
    return sum(int(states.get(s, 0)) for s in ORPHAN_STATES)


def measure_capacity(build):
    run = Run(build, "cap", limit=True)
    try:
        res, _ = run.gen(["--rate", "max", "--concurrency", "32768", "--duration", "4"], timeout=120)
        st = run.sm.stats()
    finally:
        run.stop()
    cap = res["rates"]["established_per_s"]
    busy = int(st.get("busy_cycles", 0)) / max(1, int(st.get("total_cycles", 0)))
    if CPU_SHARE:
        print(f"overload: capacity {cap:.0f} connections/s with synmill held to {CPU_SHARE:.0%} of a core "
              f"(its poll loop busy {busy:.0%} of the cycles it got)", flush=True)
    else:
        print(f"overload: capacity {cap:.0f} connections/s (synmill's core busy {busy:.0%} of its cycles; "
              f"the generator shares the machine, so this is what the pair reaches)", flush=True)
    return cap


def overload(build, cap):
    help_text = synmill_help(build)
    extra, bound = ["--max-conns", "65536"], 65536 // 4  # tcp::StackConfig: max_orphans 0 = max_conns / 4
    if "--max-orphans" in help_text:  # the default (max_conns / 4), given explicitly
        extra += ["--max-orphans", str(bound)]
    run = Run(build, "over", extra, limit=True)
    peak = {"orphans": 0}
    late_stats = {}

    def during(t):
        try:
            peak["orphans"] = max(peak["orphans"], orphans(run.sm.telemetry.query("/synmill/states", timeout=2)))
            if t is not None and t >= 12 and "at12" not in late_stats:
                late_stats["at12"] = run.sm.stats()
            if t is not None and t <= 20:
                late_stats["at20"] = run.sm.stats()
        except OSError:
            pass
    try:
        hi, lo = int(3 * cap), max(1, int(cap / 2))
        res, lines = run.gen(["--rate", str(hi), "--duration", "10", "--then-rate", str(lo), "--then-duration", "10",
                              "--concurrency", "32768", "--drain", "3"] + MINIMAL_CLIENT, timeout=180,
                             during=during)
        after = run.check_idle_again("overload")
    finally:
        rc = run.stop()
    c = res["counters"]
    # Per second: established and cumulative failures, from the gen's status lines.
    at_cap = [e for t, e, _, _ in lines if 2 <= t <= 10]
    answered = sum(at_cap) / max(1, len(at_cap))
    fails = {round(t): (f, r) for t, _, f, r in lines}
    second = [(t, f - fails.get(round(t) - 1, (f, r))[0],
               {k: v - fails.get(round(t) - 1, (f, r))[1].get(k, 0) for k, v in r.items()
                if v != fails.get(round(t) - 1, (f, r))[1].get(k, 0)})
              for t, _, f, r in lines if 10 < t <= 20]
    late = [(t, d) for t, d, _ in second if t > 12.05]
    first_clean = next((t - 10 for t, _, _ in second if all(d == 0 for tt, d, _ in second if tt >= t)), None)
    check("overload: synmill exited 0", rc == 0, f"(rc {rc})")
    # A timing on a shared machine: reported (met / not met), not checked.
    clean = all(d == 0 for _, d in late) and late != []
    print(f"overload: AIM zero failures from 2 s into phase 2: {'met' if clean else 'not met'} "
          f"(failures per second in phase 2, with reasons: {[(d, r) for _, d, r in second]})", flush=True)
    check(f"overload: orphans never above their bound ({bound})", peak["orphans"] <= bound,
          f"(peak {peak['orphans']})")
    # The generator counts as established some connections synmill never
    # saw complete: under overload synmill answers SYNs with cookies, and
    # when the client drops its final ACK (as this one does, 10 %) and waits
    # for the server to speak first, nothing on either side retransmits
    # (RFC 4987 §3.6): those end as the generator's fail_unfinished. Every
    # connection synmill established delivered its response.
    d = lambda k: int(after.get(k, 0)) - int(run.before_stats.get(k, 0))  # noqa: E731
    est = d("established")
    ended = {k: d(k) for k in ("est_ended_normal", "est_ended_reset", "est_ended_aborted", "est_ended_timeout")}
    reclaimed = {k: d(k) for k in after if k.startswith("reclaim_") and d(k)}
    check("overload: every connection synmill established ended in exactly one counted outcome",
          est == sum(ended.values()), f"({est} established; {ended}; of which reclaimed {reclaimed})")
    # Across the link: a response needs a connection synmill established, and
    # synmill establishes only on the generator's ACK (so the generator
    # established it too; it may count more: cookie ACKs lost, RFC 4987 §3.6).
    # The connections synmill established whose response the generator did not
    # count are among the generator's failures after establishment.
    gen_failed_est = c["established"] - c["responses_complete"]
    check("overload: responses <= synmill's established <= the generator's established",
          c["responses_complete"] <= est <= c["established"],
          f'({c["responses_complete"]} <= {est} <= {c["established"]}; {est - c["responses_complete"]} established '
          f'by synmill without a response counted, within the generator\'s {gen_failed_est} failed after '
          f'establishment; gen {c})')
    if "at12" in late_stats and "at20" in late_stats:
        a, b = late_stats["at12"], late_stats["at20"]
        moved = {k: int(b[k]) - int(a[k]) for k in b if k in a and str(b[k]).isdigit() and
                 (k.startswith(("drop_", "shed_", "reclaim_", "challenge", "rst_", "time_wait", "cookies", "syn")) or
                  "retransmit" in k) and int(b[k]) != int(a[k])}
        print(f"overload: synmill from 2 s into phase 2 to its end: {moved}", flush=True)
    shed = {k: after.get(k) for k in ("overload_entered", "shed_syn_overload", "shed_syn_tx_full", "shed_to_cookies")}
    print(f"overload: AIM answered at 3x capacity {answered:.0f}/s = {answered / cap:.0%} of capacity "
          f"({'met' if answered >= 0.9 * cap else 'not met'}) "
          f"{cap:.0f}/s (aim >= 90%); zero failures again {first_clean} s after the load fell (aim <= 2 s); "
          f"shedding {shed}", flush=True)


def stalls(build, cap):
    run = Run(build, "stall")
    stops = []

    def during(t):
        if t is None or len(stops) >= 3 or t < 2.5 * (len(stops) + 1):
            return
        os.kill(run.sm.proc.pid, signal.SIGSTOP)
        time.sleep(0.3)
        os.kill(run.sm.proc.pid, signal.SIGCONT)
        stops.append(t)
    try:
        rate = max(1, int(0.8 * cap))
        # The generator's RTO backs off from 1 s: a connection caught by all
        # three stalls may need 1 + 2 + 4 s to finish.
        res, lines = run.gen(["--rate", str(rate), "--duration", "10", "--concurrency", "32768", "--drain", "15"],
                             timeout=120, during=during, every=0.05)
        st = run.check_idle_again("stalls")
    finally:
        rc = run.stop()
    c = res["counters"]
    check("stalls: synmill was stopped 3 times for 300 ms", len(stops) == 3, str(stops))
    check("stalls: synmill exited 0", rc == 0, f"(rc {rc})")
    check("stalls: no connection failed", res["failures"] == 0, str({k: v for k, v in c.items() if k.startswith("fail_") and v}))
    d = lambda k: int(st[k]) - int(run.before_stats[k])  # noqa: E731
    check("stalls: every connection the gen started was established, answered and closed",
          c["connects_started"] == c["established"] == c["responses_complete"] == c["closes_client"],
          f'({c["connects_started"]} started, {c["established"]} established, {c["closes_client"]} closed)')
    check("stalls: synmill established and closed as many", d("established") == c["established"] == d("closed_normal"),
          f'({d("established")} established, {d("closed_normal")} closed)')
    tail = [e for t, e, _, _ in lines if 8.5 <= t <= 10.5]
    print(f"overload: stalls: offered {rate}/s, established/s after the last stall {tail}", flush=True)
    check("stalls: throughput back after the last stall (within 25 % of the offered rate)",
          tail != [] and max(tail) >= 0.75 * rate, f"({tail} vs {rate})")


def flaps(build, cap):
    run = Run(build, "flap")
    try:
        rate = max(1, int(0.8 * cap))
        res, lines = run.gen(["--rate", str(rate), "--duration", "10", "--concurrency", "32768", "--drain", "5",
                              "--flap", "20", "--flap-down", "0.1"], timeout=180)
        st = run.check_idle_again("flaps")
        alive = run.sm.proc.poll() is None
    finally:
        rc = run.stop()
    log = procs.log_text(run.sm.proc)
    c = res["counters"]
    d = lambda k: int(st[k]) - int(run.before_stats[k])  # noqa: E731
    check("flaps: synmill stayed up through 20 disconnects", alive and rc == 0, f"(rc {rc})")
    # Up after each of the 20 flaps (and once more when the generator first
    # connects, if synmill's first snapshot came before that).
    check("flaps: synmill saw the link come back 20 times", d("link_ups") in (20, 21), f'({d("link_ups")} ups, '
          f'{d("link_downs")} downs, {d("drop_link_down")} frames dropped while down)')
    waited = re.findall(r"unmaps that waited for a worker (\d+)", log)
    print(f"overload: flaps: unmaps that had to wait for synmill's worker: {waited[-1] if waited else 0}", flush=True)
    after_flaps = [e for t, e, _, _ in lines if t >= 9.5]
    check("flaps: serving after the last reconnect", any(e > 0 for e in after_flaps), str(after_flaps))
    # A handshake cut by a flap may be complete on one side only; every
    # response the generator got came from a connection synmill established.
    check("flaps: every response the generator got came from a connection synmill established",
          c["responses_complete"] > 0 and d("established") >= c["responses_complete"],
          f'({d("established")} established by synmill, {c["responses_complete"]} responses; gen failures '
          f'{ {k: v for k, v in c.items() if k.startswith("fail_") and v} })')


def port_reuse(build, _cap):
    """One source port, 20 connections in a row; the generator keeps no
    TIME_WAIT, never answers synmill's FIN (so each connection is left
    behind in synmill as a LAST_ACK orphan) and ignores its retransmissions:
    each new SYN meets the previous connection's orphan and must replace it."""
    run = Run(build, "reuse")
    try:
        res, _ = run.gen(["--src-ports", "40000-40000", "--concurrency", "1", "--count", "20", "--duration", "60",
                          "--drain", "3", "--no-time-wait", "--drop-fin-acks", "1", "--ignore-fin-rtx"], timeout=120,
                         http=False)
        st = run.sm.stats()
        run.check_idle_again("port reuse")
    finally:
        rc = run.stop()
    c = res["counters"]
    d = lambda k: int(st.get(k, 0)) - int(run.before_stats.get(k, 0))  # noqa: E731
    check("port reuse: synmill exited 0", rc == 0, f"(rc {rc})")
    check("port reuse: all 20 connections on the one tuple established and answered",
          c["established"] == 20 and c["responses_complete"] == 20 and res["failures"] == 0,
          str({k: v for k, v in c.items() if v}))
    check("port reuse: the generator dropped its answer to every FIN", c["final_acks_dropped"] >= 20,
          f'({c["final_acks_dropped"]})')
    # Each new SYN meets the previous connection's LAST_ACK orphan: replaced
    # at once (RFC 6191 rules, stack_reclaim.cpp), or answered with a
    # challenge ACK (RFC 5961 §4) that the client answers with RST, which
    # frees the tuple for its retransmitted SYN.
    check("port reuse: every later connection found the last one's orphan and took its place",
          d("reclaim_orphan_replaced") >= 1 and d("reclaim_orphan_replaced") + d("rst_in") >= 19 and
          d("established") == 20, f'({d("reclaim_orphan_replaced")} replaced, {d("rst_in")} RST in, '
          f'{d("established")} established)')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--only", default="reuse,overload,stalls,flaps")
    ap.add_argument("--cpu-share", type=float, default=None,
                    help="hold synmill to this fraction of one core in the capacity and overload runs")
    args = ap.parse_args()
    global CPU_SHARE
    CPU_SHARE = args.cpu_share
    atexit.register(procs.stop_all)
    cap = measure_capacity(args.build)
    for name in args.only.split(","):
        t0 = time.monotonic()
        {"reuse": port_reuse, "overload": overload, "stalls": stalls, "flaps": flaps}[name](args.build, cap)
        print(f"overload: {name} took {time.monotonic() - t0:.0f} s", flush=True)
    print(f"overload: {len(FAILURES)} check(s) failed", flush=True)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
