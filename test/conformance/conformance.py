#!/usr/bin/python3
"""Conformance runner: synmill on net_tap, scapy as the peer.

    test/conformance/run.sh BUILD [-k SUBSTRING ...] [--family 6]

Outside (root namespace): creates a network namespace, re-runs itself inside
it (`ip netns exec NS`), then removes the namespace and stops by PID any
synmill the inside part left running. Inside: starts synmill processes (their
taps appear in the namespace, the kernel side without an address), plays the
peer with scapy and checks replies on the wire, /synmill/state and
/synmill/stats. One line per case: PASS, FAIL, XFAIL (an expected deviation,
with its citation) or PENDING; then a summary. Exit 1 if any case failed.

--family 6 runs the same table over IPv6 (peer.py: synmill dual stack with
2001:2::2/64 and 198.18.0.2/24, the peer 2001:2::1, Neighbor Discovery in
place of ARP); the differential suite too, against Linux over IPv6 (linux_peer.py
gives the Linux namespace 2001:2::2/64 beside 198.18.0.2/24).
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"


def outside(args):
    if os.geteuid() != 0:
        print("conformance: needs root (network namespaces, taps)", file=sys.stderr)
        return 2
    ns = f"synmill-conf-{os.getpid()}"
    # The differential suite's Linux: a second namespace, a veth pair into the first (linux_peer.py).
    linux_ns = f"{ns}-linux"
    veth, veth_peer = f"smcl{os.getpid() % 100000}a", f"smcl{os.getpid() % 100000}b"
    logdir = tempfile.mkdtemp(prefix="synmill-conf-logs-")
    pidfile = os.path.join(logdir, "pids")
    rc = 1
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        for key in ("all", "default"):
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w",
                            f"net.ipv6.conf.{key}.disable_ipv6=1"], check=False)
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        env = dict(os.environ, SYNMILL_CONF_PIDFILE=pidfile, SYNMILL_CONF_LOGDIR=logdir,
                   SYNMILL_CONF_FAMILY=str(args.family))
        if not args.no_diff:
            sys.path.insert(0, HERE)
            os.environ["SYNMILL_CONF_FAMILY"] = str(args.family)  # read by peer.py at import
            import linux_peer  # noqa: E402
            linux_peer.setup_namespace(ns, linux_ns, veth, veth_peer)
            env.update(SYNMILL_CONF_LINUX_NS=linux_ns, SYNMILL_CONF_LINUX_VETH=veth,
                       SYNMILL_CONF_LINUX_VETH_PEER=veth_peer)
        cmd = ["ip", "netns", "exec", ns, PYTHON, os.path.abspath(__file__), "--inside", "--build", args.build,
               "--random", str(args.random), "--random-len", str(args.random_len), "--seed", str(args.seed),
               "--family", str(args.family)]
        for k in args.k or []:
            cmd += ["-k", k]
        for flag in ("no_diff", "diff_only"):
            if getattr(args, flag):
                cmd.append("--" + flag.replace("_", "-"))
        p = subprocess.Popen(cmd, env=env)
        try:
            rc = p.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"conformance: no end within {args.timeout}s: stopping", file=sys.stderr)
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
            rc = 1
        except KeyboardInterrupt:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=20)
            rc = 130
    finally:
        prefixes = []
        if os.path.exists(pidfile):  # what the inside part started and did not stop
            with open(pidfile) as f:
                entries = [line.split(None, 1) for line in f if line.strip()]
            for kind, value in entries:
                value = value.strip()
                if kind == "prefix" and value.startswith("synmill-conf-"):
                    prefixes.append(value)
                if kind != "pid":
                    continue
                pid = int(value)
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as c:
                        if b"synmill" not in c.read():
                            continue
                    os.kill(pid, signal.SIGKILL)
                except (OSError, ValueError):
                    pass
        subprocess.run(["ip", "netns", "del", ns], check=False)  # takes the veth pair with it
        if not args.no_diff:
            subprocess.run(["ip", "netns", "del", linux_ns], check=False, stderr=subprocess.DEVNULL)
        for prefix in prefixes:
            subprocess.run(["rm", "-rf", os.path.join("/var/run/dpdk", prefix)], check=False)
    if rc != 0:
        print(f"conformance: logs in {logdir}")
    else:
        subprocess.run(["rm", "-rf", logdir], check=False)
    return rc


def inside(args):
    sys.path.insert(0, HERE)
    import peer  # noqa: E402  (scapy import: inside only)
    import states  # noqa: E402
    import hostile  # noqa: E402
    import stuck  # noqa: E402
    import syn_sent  # noqa: E402
    import faults  # noqa: E402
    import diff_run  # noqa: E402

    binary = os.path.join(os.path.abspath(args.build), "apps", "synmill")
    logdir = os.environ.get("SYNMILL_CONF_LOGDIR", "/tmp")
    results = []
    t0 = time.monotonic()

    def report(cid, status, detail="", label=None):
        results.append((cid, status))
        print(f"{label or status:7} {cid}: {detail}", flush=True)

    ports = iter(range(20000, 60000))

    def next_port():
        return next(ports)

    only = args.k or None
    groups = [
        ("A", states.LISTEN_ARGS, states.EXTRA_ARGS, [states.run, hostile.run_plain]),
        ("B", hostile.COOKIE_LISTEN, hostile.COOKIE_ARGS, [hostile.run_cookies]),
        ("C", stuck.LISTEN_ARGS, stuck.EXTRA_ARGS, [stuck.run]),
        ("D", syn_sent.LISTEN_ARGS, syn_sent.EXTRA_ARGS, [syn_sent.run]),
        ("F", faults.LISTEN_ARGS, faults.EXTRA_ARGS, [faults.run]),
    ]
    if args.diff_only:
        groups = []
    for tag, listen, extra, runs in groups:
        sm = peer.Synmill(binary, tag, listen, extra, logdir)
        try:
            sm.start()
        except BaseException as e:
            sm.stop()
            if not isinstance(e, RuntimeError):
                raise
            report(f"synmill {tag}", "FAIL", f"did not start: {e}")  # the other groups still run
            continue
        try:
            for fn in runs:
                try:
                    fn(sm, report, next_port, only)
                except Exception as e:  # a broken group must not hide the others
                    import traceback
                    traceback.print_exc()
                    report(f"{fn.__module__}.{fn.__name__}", "FAIL", f"aborted: {e!r}")
            if sm.proc.poll() is not None:
                report(f"synmill {tag}", "FAIL", f"synmill died (rc {sm.proc.returncode}); log {sm.log}")
        finally:
            sm.stop()
    t1 = time.monotonic()
    diff_line = ""
    if not args.no_diff:
        try:
            diff_line, _ = diff_run.run(binary, logdir, report, next_port, only, args.random, args.random_len,
                                        args.seed)
        except Exception as e:
            import traceback
            traceback.print_exc()
            report("diff", "FAIL", f"aborted: {e!r}")
        diff_line = f"{diff_line} ({time.monotonic() - t1:.0f} s)"
    n = {s: sum(1 for _, st in results if st == s) for s in ("PASS", "FAIL", "XFAIL", "PENDING")}
    if diff_line:
        print(diff_line)
    fam = " (IPv6)" if args.family == 6 else ""
    print(f"conformance{fam}: {n['PASS']} passed, {n['FAIL']} failed, {n['XFAIL']} expected deviations, "
          f"{n['PENDING']} pending ({time.monotonic() - t0:.0f} s)")
    return 1 if n["FAIL"] else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--inside", action="store_true")
    ap.add_argument("-k", action="append", help="run only cases whose id contains this")
    ap.add_argument("--timeout", type=int, default=None, help="seconds for the whole run (default 600, "
                    "more with a longer random run)")
    ap.add_argument("--no-diff", action="store_true", help="skip the differential suite (Linux as oracle)")
    ap.add_argument("--diff-only", action="store_true", help="only the differential suite")
    ap.add_argument("--random", type=int, default=40, help="random sequences in the differential suite")
    ap.add_argument("--random-len", type=int, default=5, help="longest random sequence (segments)")
    ap.add_argument("--seed", type=int, default=1121, help="seed of the random mode and the ISNs")
    ap.add_argument("--family", type=int, choices=(4, 6), default=4,
                    help="address family of the table (6: IPv6 peer, dual-stack synmill and Linux)")
    args = ap.parse_args()
    if args.timeout is None:
        args.timeout = 600 + 8 * max(0, args.random - 40)
    return inside(args) if args.inside else outside(args)


if __name__ == "__main__":
    sys.exit(main())
