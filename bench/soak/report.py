"""The soak's record, verdicts, plots and markdown summary."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.soak.stats import FlatVerdict, GrowthVerdict, flat, growth, linear_fit, rss_tolerance, steady_window

SERVICES = ("ingest", "aggregate", "api")


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # seconds since the load started
    rss: dict[str, int]  # bytes per service
    redis_bytes: int
    pg_bytes: int
    committed: int  # events the aggregator has committed (consumer_offsets)
    lag: int  # topic end - committed


@dataclass(frozen=True, slots=True)
class SoakReport:
    started_at: str
    finished_at: str
    minutes: float
    rate: float
    interval_s: float
    host: dict[str, Any]
    samples: tuple[Sample, ...]
    flat: tuple[FlatVerdict, ...]
    growth: tuple[GrowthVerdict, ...]
    acknowledged_events: int
    achieved_rate: float
    e2e_p50_ms: float
    e2e_p99_ms: float
    probes_acked: int
    probes_seen: int
    dropped_slots: int
    plots: tuple[str, ...]
    errors: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return (
            not self.errors
            and bool(self.flat)
            and all(v.flat for v in self.flat)
            and all(g.linear for g in self.growth)
        )


def verdicts(samples: list[Sample], rate: float) -> tuple[tuple[FlatVerdict, ...], tuple[GrowthVerdict, ...]]:
    ts = [s.t for s in samples]
    flats = []
    for name in SERVICES:
        rss = [float(s.rss.get(name, 0)) for s in samples]
        flats.append(flat(f"{name} RSS (bytes)", ts, rss, rss_tolerance(rss)))
    flats.append(flat("consumer lag (events)", ts, [float(s.lag) for s in samples], rate * 1.0))
    events = [float(s.committed) for s in samples]
    grows = (
        growth("PostgreSQL size (bytes)", events, [float(s.pg_bytes) for s in samples]),
        growth("Redis memory (bytes)", events, [float(s.redis_bytes) for s in samples]),
    )
    return tuple(flats), grows


def plot(samples: list[Sample], stem: Path) -> list[str]:
    """One PNG per series, against time (RSS, lag) or against events (sizes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [s.t / 60 for s in samples]
    events = [s.committed / 1e6 for s in samples]
    series: list[tuple[str, list[float], list[float], str, str]] = [
        (f"rss-{name}", minutes, [s.rss.get(name, 0) / 2**20 for s in samples], "minutes", f"{name} RSS (MiB)")
        for name in SERVICES
    ]
    series += [
        ("lag", minutes, [float(s.lag) for s in samples], "minutes", "consumer lag (events)"),
        ("postgres", events, [s.pg_bytes / 1e6 for s in samples], "events applied (millions)", "PostgreSQL (MB)"),
        ("redis", events, [s.redis_bytes / 1e6 for s in samples], "events applied (millions)", "Redis (MB)"),
    ]
    written = []
    for name, xs, ys, xlabel, ylabel in series:
        fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
        ax.plot(xs, ys, marker=".", linewidth=1, label="samples")
        over_time = name.startswith("rss") or name == "lag"
        # The line the verdict is drawn from: the steady window over time, the whole run in events.
        if over_time:  # steady_window works in seconds
            window, fy = steady_window([x * 60 for x in xs], ys)
            fx = [t / 60 for t in window]
        else:
            fx, fy = xs, ys
        fit = linear_fit(fx, fy)
        if not math.isnan(fit.slope):
            ends = [fx[0], fx[-1]]
            ax.plot(ends, [fit.intercept + fit.slope * x for x in ends], "--", color="tab:red", label="fit")
        if over_time and fx:
            ax.axvspan(xs[0], fx[0], color="grey", alpha=0.15, label="warm-up (not judged)")
            ax.set_ylim(bottom=0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(f"soak: {ylabel}")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
        fig.tight_layout()
        path = stem.parent / f"{stem.name}-{name}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path.name)
    return written


def _fmt_bytes(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value / 2**20:,.1f} MiB"


def markdown(report: SoakReport) -> str:
    out = [
        f"# Soak {report.started_at}: {report.rate:,.0f} ev/s for {report.minutes:g} min",
        "",
        f"Host: {report.host.get('cpus')} CPUs, load average at start {report.host.get('loadavg')}, "
        f"commit {report.host.get('commit')}. Samples every {report.interval_s:g} s: {len(report.samples)}.",
        f"Acknowledged {report.acknowledged_events:,} events ({report.achieved_rate:,.0f} ev/s); probes "
        f"{report.probes_seen}/{report.probes_acked} visible, end-to-end p50 {report.e2e_p50_ms:,.0f} ms, "
        f"p99 {report.e2e_p99_ms:,.0f} ms; dropped batches {report.dropped_slots}.",
        "",
        f"**Result: {'pass' if report.passed else 'FAIL'}**",
        "",
        "| flat? | median | drift over the window (95 % CI) | tolerance | flat |",
        "|---|---|---|---|---|",
    ]
    for v in report.flat:
        if "bytes" in v.series:
            cells = [_fmt_bytes(v.median), f"{_fmt_bytes(v.drift)} ({_fmt_bytes(v.drift_low)} .. "
                     f"{_fmt_bytes(v.drift_high)})", _fmt_bytes(v.tolerance)]  # fmt: skip
        else:
            cells = [
                f"{v.median:,.0f}",
                f"{v.drift:,.0f} ({v.drift_low:,.0f} .. {v.drift_high:,.0f})",
                f"{v.tolerance:,.0f}",
            ]
        out.append(f"| {v.series} | {' | '.join(cells)} | {'yes' if v.flat else '**no**'} |")
    out += [
        "",
        "| growth in events | bytes/event | R² | slope 1st half | slope 2nd half | shape | at most linear |",
        "|---|---|---|---|---|---|---|",
    ]
    for g in report.growth:
        out.append(
            f"| {g.series} | {g.bytes_per_event:,.0f} | {g.r2:.3f} | {g.first_half_slope:,.0f} | "
            f"{g.second_half_slope:,.0f} | {g.shape} | {'yes' if g.linear else '**no**'} |"
        )
    out += ["", "Plots: " + ", ".join(f"`{p}`" for p in report.plots)]
    if report.errors:
        out += ["", "Errors:", *[f"- {e}" for e in report.errors]]
    return "\n".join(out)
