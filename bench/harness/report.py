"""The bench's outputs: JSON, a Markdown table, and a PNG of rates."""
import json
import os


def fmt_value(row):
    """A row's value as printed: ratios to three places (printed as a rate, 0.95
    read "1" and 0.4 read "0"), none as "not measured"."""
    v = row["value"]
    if v is None:
        return "not measured"
    if row.get("unit") == "ratio":
        return f"{v:.3f}"
    return fmt_rate(v)


def fmt_rate(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e3:
        return f"{v / 1e3:.1f} K"
    return f"{v:.0f}"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def bounded(a, ceiling):
    """a / ceiling, flagged when a exceeds what the ceiling says can cross the link."""
    if not (a and ceiling):
        return "-"
    return f"{a / ceiling:.2f} (ceiling invalid)" if a > ceiling else f"{a / ceiling:.2f}"


def aims(result):
    """(text, True/False/None) for each of the bench's aims."""
    refs = result["references"]
    ceiling = refs.get("ceiling", {}).get("pps")
    k_syn = refs.get("kernel-syn", {}).get("rate_per_cpu")
    k_cps = refs.get("kernel-cps", {}).get("rate_per_cpu")
    rows = {r["scenario"]: r for r in result["rows"]}
    syn = rows.get("syn", {}).get("value")
    cps = rows.get("cps", {}).get("value")
    # Only runs where synmill was seen holding them all: a run cut short
    # measured nothing (its 0 must never read as "met").
    held = [r["bytes_per_held_conn"] for r in result["rows"]
            if r.get("held", 0) >= 100_000 and r.get("held_seen_by_synmill", 0) >= r["held"]]
    out = []

    def aim(text, a, b, need, bound=False):
        """bound: b is an upper bound on a (a ceiling). synmill above it
        means the reference measured something else: invalid, never met."""
        if not (a and b):
            out.append((text, None))
        elif bound and a > b:
            out.append((f"{text}: {a / b:.2f} (aim {need}): REFERENCE INVALID, synmill exceeds it", "invalid"))
        else:
            out.append((f"{text}: {a / b:.2f} (aim {need})", a / b >= need))
    aim("cookie SYN-ACK rate / ceiling (generator into rxonly)", syn, ceiling, 0.9, bound=True)
    aim("CPS / ceiling packet rate", cps, ceiling, 0.25, bound=True)
    aim("syn: synmill per core / kernel per CPU", syn, k_syn, 20)
    aim("cps: synmill per core / kernel per CPU", cps, k_cps, 10)
    # Cost per packet (issue 12): synmill's busy TSC cycles over the packets it
    # received (a busy poll is one that received packets).
    for scen, what, bound in (("syn", "syn: busy cycles per SYN answered with a cookie", 200),
                              ("cps", "cps: busy cycles per received packet", 300)):
        c = rows.get(scen, {}).get("busy_cycles_per_packet")
        out.append((f"{what}: {c} (aim <= {bound})", c <= bound) if c else (what, None))
    # IPv6 next to IPv4 (issue 15): reported, no aim.
    cps6 = rows.get("cps-v6", {})
    if cps6.get("v6_over_v4"):
        out.append((f"cps IPv6 / IPv4 (same run, same duration): {cps6['v6_over_v4']:.2f} "
                    f"({fmt_rate(cps6['value'])} vs {fmt_rate(cps6['ipv4_value'])})", "reported"))
    if held:
        out.append((f"bytes per held connection (synmill's anonymous memory): {max(held):.0f} (aim <= 128)",
                    max(held) <= 128))
    else:
        out.append(("bytes per held connection (needs a completed hold of 100,000 or more)", None))
    return out


def markdown(result):
    refs = result["references"]
    ceiling = refs.get("ceiling", {}).get("pps")
    k_syn = refs.get("kernel-syn", {}).get("rate_per_cpu")
    k_cps = refs.get("kernel-cps", {}).get("rate_per_cpu")
    lines = [f"# synmill bench {result['timestamp']} ({result['mode']}, {result['duration_s']} s per run)", "",
             "| scenario | metric | synmill | / ceiling | / kernel per CPU (tap-bound) | cycles/pkt | extra | checks |",
             "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        kern = k_syn if r["scenario"] == "syn" else k_cps if r["scenario"] == "cps" else None
        extra = []
        for key in ("syn_rcvd_held", "memory_held_kib", "time_wait_entries", "bytes_per_slot", "bytes_per_held_conn", "held", "huge_page_kib_held",
                    "v6_over_v4", "runs"):
            if key in r:
                extra.append(f"{key}={r[key]}")
        ok = sum(1 for c in r["checks"] if c[1])
        lines.append(f"| {r['scenario']} | {r['metric']} | {fmt_value(r)} | "
                     f"{bounded(r['value'], ceiling) if r['scenario'] in ('syn', 'cps') else '-'} | "
                     f"{ratio(r['value'], kern) if kern else '-'} | {r['busy_cycles_per_packet']} | "
                     f"{' '.join(extra)} | {ok}/{len(r['checks'])} |")
    lines += ["", "Aims (reported, not asserted):", ""]
    for text, ok in aims(result):
        word = {True: "met", False: "NOT met", None: "not measured", "invalid": "reference invalid",
                "reported": "reported (no aim)"}[ok]
        lines.append(f"- {word}: {text}")
    lines += ["", "References (same invocation): the ceiling is the generator's transmit rate into testpmd "
              "rxonly (the macswap round trip only where the generator absorbed the echoes); the kernel is "
              "reached through a tap (one frame per syscall), its CPU = all busy CPU minus the generator's "
              "user time.", ""]
    for name, ref in refs.items():
        lines.append(f"- {name}: {json.dumps(ref)}")
    failed = [(r["scenario"], c) for r in result["rows"] for c in r["checks"] if not c[1]]
    lines += ["", f"Counter checks: {sum(len(r['checks']) for r in result['rows']) - len(failed)} agree, "
              f"{len(failed)} disagree."]
    for scen, c in failed:
        lines.append(f"- DISAGREE {scen}: {c[0]} ({c[2]})")
    return "\n".join(lines) + "\n"


def plot(result, path):
    """A bar chart of each scenario's rate; returns False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = result["rows"]
    names = [r["scenario"] for r in rows]
    values = [r["value"] or 0 for r in rows]
    fig, ax = plt.subplots(figsize=(max(6, len(rows) * 1.1), 4))
    ax.bar(names, values, color="#3b6ea5")
    ceiling = result["references"].get("ceiling", {}).get("pps")
    if ceiling:
        ax.axhline(ceiling, color="#a53b3b", linestyle="--", label=f"ceiling (gen into rxonly) {fmt_rate(ceiling)} pps")
        ax.legend()
    ax.set_ylabel("per second")
    ax.set_title(f"synmill bench {result['timestamp']}")
    plt.xticks(rotation=30, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def write(result, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.join(out_dir, result["timestamp"])
    with open(base + ".json", "w") as f:
        json.dump(result, f, indent=2)
    md = markdown(result)
    with open(base + ".md", "w") as f:
        f.write(md)
    png = plot(result, base + ".png")
    return base, md, png
