#!/usr/bin/python3
"""Plots goodput against loss rate from loss_goodput's CSV.

Usage: /usr/bin/python3 bench/plot_goodput.py [CSV] [PNG]
  CSV  default bench/results/loss_goodput.csv (made by
       build-core/bench/loss_goodput --csv bench/results/loss_goodput.csv)
  PNG  default bench/results/goodput_vs_loss.png

One line per recovery flavour (SACK / RFC 6675, NewReno / RFC 6582), and for
reference the Padhye et al. (PFTK, SIGCOMM '98) estimate of one Reno flow's
throughput with timeouts:
    B(p) = MSS / (RTT sqrt(2bp/3) + T0 min(1, 3 sqrt(3bp/8)) p (1 + 32 p^2))
with b = 2 (delayed ACK) and T0 = 200 ms (the stack's minimum RTO), doubled
for the two directions. At low loss our flows are capped by the 64 KiB
window and the lossless link, which the model ignores.
"""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MSS_BYTES = 1448  # payload per segment with timestamps


def main() -> int:
    src = sys.argv[1] if len(sys.argv) > 1 else "bench/results/loss_goodput.csv"
    dst = sys.argv[2] if len(sys.argv) > 2 else "bench/results/goodput_vs_loss.png"
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        print(f"{src}: no rows", file=sys.stderr)
        return 1
    rtt_s = float(rows[0]["rtt_ms"]) / 1000.0
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for flavour, style in (("sack", "o-"), ("newreno", "s--")):
        pts = [(float(r["loss"]) * 100, float(r["goodput_mbps"])) for r in rows if r["recovery"] == flavour]
        pts.sort()
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=flavour)
    losses = sorted({float(r["loss"]) for r in rows if float(r["loss"]) > 0})
    if losses:
        b, t0 = 2.0, 0.2
        model = [
            2 * MSS_BYTES * 8
            / (rtt_s * math.sqrt(2 * b * p / 3) + t0 * min(1.0, 3 * math.sqrt(3 * b * p / 8)) * p * (1 + 32 * p * p))
            / 1e6
            for p in losses
        ]
        ax.plot([p * 100 for p in losses], model, ":", color="gray", label="PFTK model, RTO 200 ms (x2 directions)")
    ax.set_yscale("log")
    ax.set_xlabel("loss rate per frame (%)")
    ax.set_ylabel("goodput per connection, both directions (Mbit/s)")
    ax.set_title(
        f"{rows[0]['connections']} conns x {int(rows[0]['bytes_each_way']) // 1024} KiB each way, "
        f"RTT {rows[0]['rtt_ms']} ms (simulated link)",
        fontsize=10,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    fig.tight_layout()
    fig.savefig(dst, dpi=120)
    print(dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
