"""The campaign's report, written next to its history: summary.md (seed, faults per class,
the checker's verdict, availability and recovery per fault class) and timeline.png (faults
as bands, one row per lane; throughput, 503 share and consumer lag as lines)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from tests.nemesis.checker import Verdict, by_class, overall_availability
from tests.nemesis.history import ACKNOWLEDGED, FaultSpan, History

BIN_S = 5.0


def summary(history: History, verdict: Verdict, notes: list[str]) -> str:
    meta = history.meta
    classes = Counter(f.fault_class for f in history.faults)
    lines = [
        f"# Nemesis campaign, seed {meta.get('seed')}",
        "",
        "- replay: a minimal schedule (plan.json), not the seed's"
        if meta.get("custom_plan")
        else f"- replay: `make nemesis SEED={meta.get('seed')} MINUTES={meta.get('minutes')}`",
        f"- {meta.get('minutes')} minutes, {len(history.faults)} faults injected "
        f"({meta.get('overlapping', 0)} started while another was active), {len(history.requests)} requests",
        f"- verdict: **{'PASS' if verdict.ok else 'FAIL'}**: acknowledged {verdict.acknowledged}, "
        f"in ledger {verdict.in_ledger}, lost {len(verdict.lost)}, counted twice {len(verdict.doubled)}, "
        f"unacknowledged counted {len(verdict.unacknowledged_counted)}, altered {len(verdict.altered)}, "
        f"drift {len(verdict.drift)}, reconcile exit {verdict.reconcile_rc}",
        f"- availability over the whole run (answered without 503 or a dropped connection): "
        f"{overall_availability(history):.1%}",
        "",
        "| fault class | faults | requests during | availability | recovery median s | recovery max s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for stats in by_class(history):
        lines.append(
            f"| {stats.fault_class} | {stats.faults} | {stats.requests} | {stats.availability:.1%} "
            f"| {stats.recovery_median_s:.1f} | {stats.recovery_max_s:.1f} |"
        )
    lines += ["", "Faults per class: " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items()))]
    lines += ["", "Oracle (CNY settled per category): " + ", ".join(f"{k} {v}" for k, v in verdict.oracle.items())]
    if verdict.problems():
        lines += ["", "## Problems", *(f"- {p}" for p in verdict.problems())]
    if notes:
        lines += ["", "## Notes", *(f"- {n}" for n in notes)]
    return "\n".join(lines) + "\n"


def _row(fault: FaultSpan) -> str:
    """A service or a network lane by its role; an engine by the node it hit."""
    if fault.role.startswith(("kafka", "redis", "pg")):
        return fault.target
    return fault.role


def timeline(history: History, path: Path) -> None:
    t0 = float(history.meta.get("t0", min((r.started for r in history.requests), default=0.0)))
    fig, (bands, rate, lag) = plt.subplots(3, 1, figsize=(16, 12), sharex=True, height_ratios=(3, 2, 1))
    colours = plt.get_cmap("tab20")
    classes = sorted({f.fault_class for f in history.faults})
    rows = sorted({_row(f) for f in history.faults})
    for fault in history.faults:
        colour = colours(classes.index(fault.fault_class) % 20)
        width = max(0.5, fault.healed - fault.started)
        bands.broken_barh([(fault.started - t0, width)], (rows.index(_row(fault)) - 0.4, 0.8), color=colour)
    handles = [Patch(color=colours(i % 20), label=c) for i, c in enumerate(classes)]
    bands.legend(handles=handles, fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    lane_of = {row: i for i, row in enumerate(rows)}
    bands.set_yticks(range(len(lane_of)), list(lane_of))
    bands.set_title(f"faults (seed {history.meta.get('seed')}): one row per target, colour per class")
    end = max((r.finished - t0 for r in history.requests), default=1.0)
    bins = int(end // BIN_S) + 1
    acked = [0] * bins
    total = [0] * bins
    bad = [0] * bins
    for r in history.requests:
        b = int((r.started - t0) // BIN_S)
        if 0 <= b < bins:
            total[b] += 1
            bad[b] += 1 if r.unavailable else 0
            acked[b] += sum(1 for o in r.outcomes if o in ACKNOWLEDGED)
    xs = [i * BIN_S for i in range(bins)]
    rate.plot(xs, [a / BIN_S for a in acked], label="acknowledged events/s")
    rate.set_ylabel("events/s")
    share = rate.twinx()
    share.plot(
        xs, [b / t if t else 0 for b, t in zip(bad, total, strict=True)], color="red", label="503/no answer share"
    )
    share.set_ylim(0, 1.05)
    share.set_ylabel("unavailable share", color="red")
    rate.legend(loc="upper left")
    samples = [(s["t"] - t0, s["lag"]) for s in history.samples if s.get("lag") is not None]
    if samples:
        lag.plot([s[0] for s in samples], [s[1] for s in samples], color="purple")
    lag.set_ylabel("consumer lag")
    lag.set_xlabel("seconds since start")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
