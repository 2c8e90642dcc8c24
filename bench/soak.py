"""`make soak`: the pipeline end to end at a fixed rate for a long time, sampled every 10 s.

    python -m bench.soak                      1,000 ev/s for $SOAK_MINUTES (default 30) minutes
    python -m bench.soak --minutes 3 --rate 500

ingest, aggregate and api run in their own benchmark namespace (bench/namespace.py) as in
the end-to-end stage; the open-loop load generator (bench/loadgen.py, batches of 50 plus
10 probe events/s timed until visible in GET /v1/progress) offers the rate for the whole run.
Every interval the soak samples each service's RSS (the process tree: ingest's supervisor
and workers together), our Redis database's memory (MEMORY USAGE of every key), our
PostgreSQL database's size, the events the aggregator has committed and the consumer lag
(topic end offsets minus committed offsets). The verdicts (bench/soak_stats.py): RSS and
lag flat, PostgreSQL and Redis growing at most linearly in events.

Writes bench/results/soak-<UTC>.json, one PNG per series next to it (soak-<UTC>-<series>.png)
and soak-<UTC>.md; exit status 1 when a verdict fails or the run broke.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer
from kafka.structs import TopicPartition
from sqlalchemy import create_engine, text

from bench.e2e import PROBE_CATEGORY
from bench.namespace import Namespace, open_namespace, stack_env
from bench.processes import ServiceProcess, live_children
from bench.results import _clean
from bench.soak_stats import FlatVerdict, GrowthVerdict, flat, growth, linear_fit, rss_tolerance, steady_window
from bench.stats import latency
from settlement_core.kafka_io import KafkaAccess, client_config

RESULTS = Path(__file__).resolve().parent / "results"
SERVICES = ("ingest", "aggregate", "api")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and its live descendants (ingest runs workers)."""
    try:
        resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0
    return resident + sum(tree_rss_bytes(c) for c in live_children(pid))


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # seconds since the load started
    rss: dict[str, int]  # bytes per service
    redis_bytes: int
    pg_bytes: int
    committed: int  # events the aggregator has committed (consumer_offsets)
    lag: int  # topic end - committed


def committed_events(engine: Any, topic: str) -> int:
    with engine.connect() as conn:
        done = conn.execute(
            text("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE topic = :t"), {"t": topic}
        ).scalar_one()
    return int(done)


class EndOffsets:
    """The topic's end offsets summed, over one consumer kept for the whole soak (a new
    connection per sample costs seconds on a loaded machine)."""

    def __init__(self, access: KafkaAccess, topic: str) -> None:
        self.consumer = KafkaConsumer(**client_config(access), group_id=None)
        self.partitions = [TopicPartition(topic, p) for p in self.consumer.partitions_for_topic(topic) or ()]

    def total(self) -> int:
        return sum(int(v) for v in self.consumer.end_offsets(self.partitions).values())

    def close(self) -> None:
        self.consumer.close()


def take_sample(ns: Namespace, services: dict[str, ServiceProcess], engine: Any, ends: EndOffsets, t: float) -> Sample:
    # End offsets before the committed count, so lag is never understated by the read order.
    end = ends.total()
    committed = committed_events(engine, ns.env["EVENTS_TOPIC"])
    return Sample(
        t=t,
        rss={name: tree_rss_bytes(s.pid) for name, s in services.items()},
        redis_bytes=ns.redis_memory_bytes(),
        pg_bytes=ns.pg_database_bytes(),
        committed=committed,
        lag=max(0, end - committed),
    )


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


def host_info() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, cwd=RESULTS.parent
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "commit": commit or "unknown",
    }


def start_service(name: str, env: dict[str, str], tag: str, attempts: int = 3) -> ServiceProcess:
    """Start a service and see it stay up. The free port is picked before the service binds
    it, and on a busy shared machine another process can take it in between: then retry on
    a new port rather than lose a half-hour run."""
    for attempt in range(1, attempts + 1):
        service = ServiceProcess(name, env, tag)
        try:
            service.wait_healthy()
            time.sleep(2.0)
            if service.proc.poll() is None:
                return service
        except RuntimeError:
            if attempt == attempts:
                raise
        service.stop()
        log(f"  {name} did not stay up (attempt {attempt}, log {service.log_path}); retrying on a new port")
    raise RuntimeError(f"{name} did not stay up after {attempts} attempts")


def _drive(
    spec: dict[str, Any], duration: float, interval: float, sample: Callable[[float], Sample], samples: list[Sample]
) -> dict[str, Any]:
    """Run the load generator for `duration`, sampling every `interval` while the load is
    offered (the drain after it would flatten lag and growth); returns its report."""
    # Its report goes to a file: it outgrows a pipe's buffer, and the generator would block
    # writing it while we wait for it to exit.
    with tempfile.TemporaryFile(mode="w+") as out, tempfile.TemporaryFile(mode="w+") as err:
        gen = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen"], stdin=subprocess.PIPE, stdout=out, stderr=err, text=True
        )
        assert gen.stdin is not None
        gen.stdin.write(json.dumps(spec))
        gen.stdin.close()
        t0 = next_at = time.monotonic()
        try:
            while gen.poll() is None:
                now = time.monotonic()
                if now >= next_at and now - t0 <= duration:
                    taken = sample(now - t0)
                    samples.append(taken)
                    # A late sample moves the schedule instead of bunching the next ones.
                    next_at = max(next_at + interval, time.monotonic())
                    if len(samples) % 6 == 1:
                        log(
                            f"  t={taken.t:,.0f} s: committed {taken.committed:,}, lag {taken.lag:,}, "
                            + ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in taken.rss.items())
                        )
                time.sleep(min(1.0, max(0.0, next_at - time.monotonic())))
        finally:
            if gen.poll() is None:
                gen.kill()
            gen.wait(timeout=60)
        out.seek(0)
        err.seek(0)
        report, errors = out.read(), err.read()
    if gen.returncode != 0 or not report.strip():
        raise RuntimeError(f"loadgen failed ({gen.returncode}): {errors[-1500:]}")
    return json.loads(report)  # type: ignore[no-any-return]


def run(minutes: float, rate: float, interval: float, out_dir: Path) -> SoakReport:
    base = stack_env()
    started = datetime.now(UTC)
    samples: list[Sample] = []
    errors: list[str] = []
    loadgen: dict[str, Any] = {}
    duration = minutes * 60
    with open_namespace(base, "soak") as ns:
        banks = ns.add_banks(12)
        probe = ns.add_banks(1, prefix="bench-probe")[0]
        operator = ns.add_operator()
        services: dict[str, ServiceProcess] = {}
        engine = create_engine(ns.database_url)
        ends = EndOffsets(KafkaAccess.from_env(ns.env), ns.env["EVENTS_TOPIC"])
        try:
            for name in SERVICES:
                services[name] = start_service(name, ns.env, f"{ns.tag}-soak")
            spec = {
                "mode": "open",
                "ingest_url": services["ingest"].url,
                "api_url": services["api"].url,
                "keys": [b.key for b in banks],
                "probe_key": probe.key,
                "operator_key": operator,
                "rate": rate,
                "batch": 50,
                "duration": duration,
                "probe_rate": 10.0,
                "probe_category": PROBE_CATEGORY,
                "drain_timeout": 30.0,
                "id_prefix": f"s{uuid.uuid4().hex[:10]}",
            }
            log(f"soak: {rate:,.0f} ev/s for {minutes:g} min, a sample every {interval:g} s")
            loadgen = _drive(spec, duration, interval, lambda t: take_sample(ns, services, engine, ends, t), samples)
            for name, service in services.items():
                if service.proc.poll() is not None:
                    errors.append(f"{name} exited with {service.proc.returncode} during the soak")
        except RuntimeError as exc:
            errors.append(str(exc))
        finally:
            for service in services.values():
                service.stop()
            ends.close()
            engine.dispose()
    flats, grows = verdicts(samples, rate) if len(samples) >= 3 else ((), ())
    if len(samples) < 3:
        errors.append(f"only {len(samples)} samples")
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = plot(samples, out_dir / f"soak-{stamp}") if samples else []
    lat = latency(loadgen.get("e2e", []))
    seconds = loadgen.get("seconds", 0.0)
    return SoakReport(
        started_at=started.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        minutes=minutes,
        rate=rate,
        interval_s=interval,
        host=host_info(),
        samples=tuple(samples),
        flat=flats,
        growth=grows,
        acknowledged_events=int(loadgen.get("events", 0)),
        achieved_rate=loadgen.get("events", 0) / seconds if seconds else math.nan,
        e2e_p50_ms=lat.p50_ms,
        e2e_p99_ms=lat.p99_ms,
        probes_acked=int(loadgen.get("probes_acked", 0)),
        probes_seen=int(loadgen.get("probes_seen", 0)),
        dropped_slots=int(loadgen.get("dropped_slots", 0)),
        plots=tuple(plots),
        errors=tuple(errors),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", "30")))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("SOAK_RATE", "1000")))
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    report = run(args.minutes, args.rate, args.interval, args.out)
    stamp = datetime.fromisoformat(report.started_at).strftime("%Y%m%dT%H%M%SZ")
    data = {**asdict(report), "passed": report.passed}
    (args.out / f"soak-{stamp}.json").write_text(json.dumps(_clean(data), indent=2, ensure_ascii=False) + "\n")
    summary = markdown(report)
    (args.out / f"soak-{stamp}.md").write_text(summary + "\n")
    print(summary)
    log(f"wrote {args.out / f'soak-{stamp}.json'}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
