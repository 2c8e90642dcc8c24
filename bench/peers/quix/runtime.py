"""The aggregation peer's runtime and its benchmark stage.

Quix Streams runs in its own environment (pyproject.toml and uv.lock beside this file, synced
by uv into ~/.cache/settlement-tracker/quix-peer-venv), not in the product's: its pins would
downgrade the services' pydantic. Each repetition starts bench/peers/quix/app.py on the
aggregator stage's pre-filled topic with a fresh consumer group and state directory, and
counts what it has *committed*: in exactly-once mode the consumer offsets, the state
changelog and the sums commit in one Kafka transaction per checkpoint, so a committed offset
means "in the state store for good", as a moved fence does for our aggregator.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.config import LOG_DIR, BenchConfig, Log
from bench.harness.processes import machine_busy_percent, machine_mark, tree_cpu_seconds
from bench.load.prefill import PrefilledTopic
from bench.reporting.results import QuixResult
from bench.reporting.stats import cpu_percent, spread, steady_rate
from settlement_core.kafka_io import admin_client, librdkafka_config
from settlement_core.money import MINOR_UNITS

HERE = Path(__file__).resolve().parent
QUIX_VERSION = "3.28.1"
PEER = f"Quix Streams {QUIX_VERSION}, exactly-once, RocksDB state with changelog"
# Quix's default checkpoint is 5 s; 1 s keeps its commits closer to ours (one ledger
# transaction per poll) and gives the rate a finer clock.
COMMIT_SECONDS = 1.0


def venv_dir() -> Path:
    base = Path(os.environ.get("SETTLEMENT_CACHE", Path.home() / ".cache" / "settlement-tracker"))
    return base / "quix-peer-venv"


def ensure_env(log: Log) -> Path:
    """uv sync of the peer's locked environment (a no-op when it is current); its python."""
    venv = venv_dir()
    uv = shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv is needed for the Quix Streams peer (make install puts it in place)")
    if not (venv / "bin" / "python").exists():
        log(f"  creating the Quix Streams environment in {venv}")
    subprocess.run(
        [uv, "sync", "--frozen", "--quiet", "--project", str(HERE)],
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)},
        check=True,
        timeout=900,
    )
    return venv / "bin" / "python"


def committed_count(admin: Any, group: str, topic: str) -> int:
    """Events committed by the group: the topic was written from offset 0, so the committed
    offset of a partition is the number of its events processed for good."""
    found = admin.list_group_offsets(group)
    offsets = found.get(group, {}) if isinstance(found, dict) else {}
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


def _clean_up(admin: Any, group: str) -> None:
    """The group and the changelog topics Quix created for it (named after the group)."""
    try:
        admin.delete_groups([group])
        doomed = [t for t in admin.list_topics() if group in t]
        if doomed:
            admin.delete_topics(doomed, timeout_ms=30_000)
    except Exception as exc:  # cleanup must not hide the result
        print(f"bench: could not clean up Quix group {group}: {exc}", file=sys.stderr)
    finally:
        admin.close()


@dataclass(frozen=True, slots=True)
class QuixRep:
    rate: float
    committed: int
    seconds: float
    capped: bool
    cpu_pct: float
    busy_pct: float


def _one_rep(cfg: BenchConfig, python: Path, source: PrefilledTopic, rep: int, log: Log) -> QuixRep:
    group = f"bench.quix.{uuid.uuid4().hex[:8]}"
    state_dir = Path(tempfile.mkdtemp(prefix="bench-quix-"))
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{group}.log"
    env = {
        **os.environ,
        "QUIX_BROKER": source.bootstrap,
        # librdkafka settings of the `bench` principal (bootstrap, SASL): environ, not argv.
        "QUIX_KAFKA_CONFIG": json.dumps(librdkafka_config(source.bench)),
        "QUIX_TOPIC": source.topic,
        "QUIX_GROUP": group,
        "QUIX_STATE_DIR": str(state_dir),
        "QUIX_MINOR_UNITS": json.dumps(MINOR_UNITS),
        "QUIX_COMMIT_SECONDS": str(COMMIT_SECONDS),
    }
    admin = admin_client(source.admin)
    mark0 = machine_mark()
    started = time.monotonic()
    with log_path.open("ab") as out:
        proc = subprocess.Popen([str(python), str(HERE / "app.py")], env=env, stdout=out, stderr=out)
    samples: list[tuple[float, float]] = []
    capped = False
    cpu = 0.0
    try:
        while True:
            now = time.monotonic()
            count = committed_count(admin, group, source.topic)
            samples.append((now, float(count)))
            if count >= source.events:
                break
            if now - started > cfg.aggregator_time_cap:
                capped = True
                break
            if proc.poll() is not None:
                raise RuntimeError(f"the Quix Streams app exited early (log {log_path})")
            time.sleep(0.25)
        cpu = tree_cpu_seconds(proc.pid)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        _clean_up(admin, group)
        shutil.rmtree(state_dir, ignore_errors=True)
    mark1 = machine_mark()
    elapsed = time.monotonic() - started
    committed = int(samples[-1][1])
    total = source.events if not capped else max(committed, 1)
    value = steady_rate(samples, total, end_fraction=0.99 if not capped else 1.0)
    log(
        f"  Quix Streams rep {rep + 1}: {value:.0f} ev/s steady, {committed:,} committed in "
        f"{elapsed:.1f} s{' (time cap)' if capped else ''}"
    )
    return QuixRep(value, committed, elapsed, capped, cpu_percent(cpu, elapsed), machine_busy_percent(mark0, mark1))


def run_quix(cfg: BenchConfig, source: PrefilledTopic, log: Log) -> QuixResult:
    python = ensure_env(log)
    reps = [_one_rep(cfg, python, source, rep, log) for rep in range(cfg.reps)]
    return QuixResult(
        peer=PEER,
        events_prefilled=source.events,
        events_per_s=spread([r.rate for r in reps]),
        events_committed=tuple(r.committed for r in reps),
        seconds=tuple(r.seconds for r in reps),
        capped=any(r.capped for r in reps),
        commit_interval_s=COMMIT_SECONDS,
        service_cpu_pct=spread([r.cpu_pct for r in reps]),
        machine_busy_pct=spread([r.busy_pct for r in reps]),
    )
