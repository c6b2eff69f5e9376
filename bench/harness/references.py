"""References measured in the same invocation as synmill:

- ceiling: an upper bound on what can cross the link. dpdk-testpmd in
  rxonly mode in synmill's place on the same memif link, driven by the same
  generator (syn mode, as fast as it can): the generator's transmit rate is
  the most SYNs synmill could ever be offered, so no reply rate can exceed
  it. The macswap round trip (testpmd echoing) is reported beside it, and
  counts as a reference only where the generator absorbed what testpmd sent
  back (otherwise it measures the generator's receive limit, not the link).
- kernel: the same generator on a tap whose other end is in a namespace where
  the Linux kernel listens (net.ipv4.tcp_syncookies=2 for syn; an epoll
  accept/respond/close server for cps). It is bound by the tap, which moves
  one frame per read/write syscall: a floor for the kernel, not its best.
  Its rate is divided by the CPUs the kernel side used: all busy CPU time
  during the run minus the generator's user time (the generator's system
  time is the kernel working: a tap write runs the kernel's receive path in
  the writer's context)."""
import procs
from scenarios import SRC_RANGE

ABSORBED = 0.95  # round trip valid when the generator took back this share of what it sent


def _gen_into(ctx, mode):
    memif = procs.Memif(f"ceiling-{mode}")
    memif.cleanup()
    pmd = procs.Testpmd(f"ceiling-{mode}", memif, mode)
    try:
        gen, _, _ = procs.run_gen(ctx.build, f"ceiling-{mode}", memif.vdev("client"),
                                  ["--mode", "syn", "--dst", f"{procs.SERVER_IP}:80", "--dst-mac",
                                   "02:00:00:00:00:02", "--src-addrs", SRC_RANGE, "--duration", str(ctx.duration)],
                                  timeout=ctx.duration * 3 + 60)
    finally:
        pmd.stop()
        memif.cleanup()
    return gen


def ceiling(ctx):
    rx_gen = _gen_into(ctx, "rxonly")
    rt_gen = _gen_into(ctx, "macswap")
    rt_rx = rt_gen["rates"]["rx_pps"]
    # testpmd echoes every frame it takes; what does not come back was lost
    # at the generator's receive side (testpmd's own memif counters are not
    # reliable for this: they report its echoes as dropped TX).
    tx = rt_gen["rates"]["tx_pps"]
    share = rt_rx / tx if tx else 0.0
    valid_rt = share >= ABSORBED
    return {"reference": "ceiling",
            "what": "the generator's transmit rate into dpdk-testpmd rxonly, same generator and link",
            "pps": rx_gen["rates"]["tx_pps"],
            "roundtrip_pps": rt_rx if valid_rt else None,
            "macswap": {"gen_tx_pps": tx, "gen_rx_pps": rt_rx,
                        "absorbed_share": round(share, 3),
                        "valid": valid_rt,
                        "note": "round trip" if valid_rt else
                        "not a reference: the generator could not absorb testpmd's echoes (its receive limit)"}}


def kernel(ctx, mode):
    """mode "syn": cookie SYN-ACKs/s per kernel CPU; "cps": connections/s per kernel CPU."""
    peer = procs.KernelPeer(ctx.build, f"k{mode}")
    try:
        if mode == "syn":
            peer.ns_run(["sysctl", "-q", "-w", "net.ipv4.tcp_syncookies=2"])
            peer.start_server(80, "listen", ctx.duration + 30)
            args = ["--mode", "syn", "--dst", f"{procs.SERVER_IP}:80", "--src-addrs", SRC_RANGE]
        else:
            peer.start_server(7, "client", ctx.duration + 30, 64, 64)
            args = ["--mode", "connect", "--dst", f"{procs.SERVER_IP}:7", "--request", "64", "--response", "64",
                    "--close", "client", "--concurrency", "256", "--src-addrs", SRC_RANGE]
        busy0, total0 = procs.cpu_ticks()
        gen, gen_utime, wall = procs.run_gen(ctx.build, f"kernel-{mode}", peer.vdev(),
                                             args + ["--duration", str(ctx.duration)],
                                             timeout=ctx.duration * 3 + 60, after_start=peer.attach)
        busy1, total1 = procs.cpu_ticks()
    finally:
        peer.close()
    ncpu = max(1, len(open("/proc/stat").read().split("\ncpu")) - 1)
    wall_ticks = (total1 - total0) / ncpu  # jiffies of one CPU over the run
    kernel_cpus = max(0.05, ((busy1 - busy0) - gen_utime) / wall_ticks) if wall_ticks > 0 else 1.0
    rate = gen["rates"]["synack_per_s"] if mode == "syn" else gen["rates"]["established_per_s"]
    return {"reference": f"kernel-{mode}",
            "what": "Linux kernel in a namespace behind a tap, same generator: tap-bound (one frame per syscall)",
            "cpu_attribution": "all busy CPU time during the run minus the generator's user time",
            "rate": rate, "kernel_cpus": round(kernel_cpus, 2), "rate_per_cpu": rate / kernel_cpus,
            "failures": gen["failures"], "wall_s": round(wall, 1)}
