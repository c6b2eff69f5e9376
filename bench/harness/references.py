"""References measured in the same invocation as synmill:

- ceiling: dpdk-testpmd in macswap mode in synmill's place on the same memif
  link, driven by the same generator (syn mode, as fast as it can): the
  packets per second the link and the generator can turn around.
- kernel: the same generator on a tap whose other end is in a namespace where
  the Linux kernel listens (net.ipv4.tcp_syncookies=2 for syn; an epoll
  accept/respond/close server for cps). Its rate is divided by the CPUs the
  kernel side used: all busy CPU time during the run minus the generator's
  user time (the generator's system time is the kernel working: a tap write
  runs the kernel's receive path in the writer's context)."""
import procs
from scenarios import SRC_RANGE


def ceiling(ctx):
    memif = procs.Memif("ceiling")
    memif.cleanup()
    pmd = procs.Testpmd("ceiling", memif)
    try:
        gen, _, _ = procs.run_gen(ctx.build, "ceiling", memif.vdev("client"),
                                  ["--mode", "syn", "--dst", f"{procs.SERVER_IP}:80", "--dst-mac",
                                   "02:00:00:00:00:02", "--src-addrs", SRC_RANGE, "--duration", str(ctx.duration)],
                                  timeout=ctx.duration * 3 + 60)
    finally:
        pmd.stop()
        memif.cleanup()
    return {"reference": "ceiling", "what": "dpdk-testpmd macswap, same generator and link",
            "pps": gen["rates"]["rx_pps"], "gen_tx_pps": gen["rates"]["tx_pps"]}


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
    return {"reference": f"kernel-{mode}", "what": "Linux kernel in a namespace behind a tap, same generator",
            "rate": rate, "kernel_cpus": round(kernel_cpus, 2), "rate_per_cpu": rate / kernel_cpus,
            "failures": gen["failures"], "wall_s": round(wall, 1)}
