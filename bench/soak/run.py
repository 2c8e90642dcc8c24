"""One soak: the services in their namespace, the open-loop load for the whole run, and a
sample of memory, sizes, committed events and lag every interval while the load is offered."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine

from bench.config import BENCH_DIR, log
from bench.harness.kafka import EndOffsets
from bench.harness.ledger import committed_events
from bench.harness.namespace import Namespace, open_namespace, stack_env
from bench.harness.processes import ServiceProcess, generator_input, tree_rss_bytes
from bench.reporting.stats import latency
from bench.soak.report import SERVICES, Sample, SoakReport, plot, verdicts
from bench.stages.e2e import PROBE_CATEGORY
from settlement_core.kafka_io import KafkaAccess


def take_sample(
    ns: Namespace, services: dict[str, ServiceProcess], engine: Engine, ends: EndOffsets, t: float
) -> Sample:
    # End offsets before the committed count, so lag is never understated by the read order.
    end = ends.total()
    with engine.connect() as conn:
        committed = committed_events(conn, ns.env["EVENTS_TOPIC"])
    return Sample(
        t=t,
        rss={name: tree_rss_bytes(s.pid) for name, s in services.items()},
        redis_bytes=ns.redis_memory_bytes(),
        pg_bytes=ns.pg_database_bytes(),
        committed=committed,
        lag=max(0, end - committed),
    )


def host_info() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, cwd=BENCH_DIR
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
            [sys.executable, "-m", "bench.load.generator"], stdin=subprocess.PIPE, stdout=out, stderr=err, text=True
        )
        assert gen.stdin is not None
        gen.stdin.write(generator_input(spec))
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
