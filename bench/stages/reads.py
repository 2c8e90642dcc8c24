"""Stages 5 + 6: read latency as history grows (10^4 -> 10^6 -> 10^7 events), Redis and
PostgreSQL growth per million events, and `settlementctl rebuild` time at 10^6.

History is loaded through the bulk path in bench/load/history.py; the rebuild doubles as the
check that this path produced the same Redis state the ledger implies.
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx

from bench.config import BenchConfig, Log
from bench.harness.kafka import EVENTS_PARTITIONS
from bench.harness.namespace import VENV_BIN, Namespace, open_namespace
from bench.harness.processes import ServiceProcess, run_loadgen
from bench.load.history import HistoryLoader, compare, snapshot
from bench.reporting.results import (
    KNOWN_AT_CASE,
    GrowthPoint,
    GrowthResult,
    ReadCase,
    ReadRatio,
    ReadsResult,
    RebuildCheck,
)
from bench.reporting.stats import cpu_percent, latency, ratio, spread
from settlement_core.buckets import totals_key

TOTALS_QUERY = urlencode(
    {"category": "cross_border_rmb", "granularity": "day", "from": "2020-01-01", "to": "2020-12-31"}
)
ENDPOINTS = {
    "GET /v1/progress": "/v1/progress",
    "GET /v1/totals (2020, daily)": f"/v1/totals?{TOTALS_QUERY}",
    "GET /metrics": "/metrics",
}
# KNOWN_AT_CASE: the same figures as known at a time (issue 24), computed from the PostgreSQL
# ledger, not Redis (goal: under 1 s at 10^7 events). At a time just before the measurement:
# every loaded effect is known by then (a future one is 422). The API starts each read from
# its in-memory base (settlement_api.kit.known_at.KnownBase), which it moves forward every
# KNOWN_AT_BASE_SECONDS (default 10): after loading a level the stage writes a knowledge
# checkpoint (`settlementctl checkpoint`, timed, as an operator would after a bulk load) and
# waits until the API's base covers the load (its gauge settlement_known_at_base_time_seconds),
# as a deployed API is at most one period behind. The read then sums the base and the effects committed
# between it and known_at. Fewer requests than the Redis reads: a read that misses the base
# scans every group of the ledger.
KNOWN_AT_REQUESTS = 20
BASE_GAUGE = "settlement_known_at_base_time_seconds"
BASE_WAIT_S = 3600.0


def _endpoints() -> dict[str, str]:
    known_at = (datetime.now(UTC) - timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    return {**ENDPOINTS, KNOWN_AT_CASE: "/v1/progress?" + urlencode({"known_at": known_at})}


def _ctl(ns: Namespace, *args: str) -> tuple[int, float, str]:
    started = time.monotonic()
    proc = subprocess.run(
        [str(VENV_BIN / "settlementctl"), *args],
        env={**os.environ, **ns.env},
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    return proc.returncode, time.monotonic() - started, proc.stdout + proc.stderr


def _base_time(api: ServiceProcess, operator_key: str) -> float:
    """The API's known_at base time (unix seconds; 0 before its first base)."""
    response = httpx.get(api.url + "/metrics", headers={"Authorization": f"Bearer {operator_key}"}, timeout=30)
    response.raise_for_status()
    for line in response.text.splitlines():
        if line.startswith(BASE_GAUGE + " "):
            return float(line.split()[1])
    raise RuntimeError(f"{BASE_GAUGE} missing from the API's /metrics")


def _checkpoint_and_wait(ns: Namespace, api: ServiceProcess, operator_key: str, log: Log) -> None:
    """Write a knowledge checkpoint of the loaded level and wait until the API's in-memory
    base covers it (KNOWN_AT_CASE), logging both times."""
    loaded = time.time()
    code, elapsed, output = _ctl(ns, "checkpoint")
    if code != 0:
        raise RuntimeError(f"settlementctl checkpoint exited {code}: {output[-1500:]}")
    log(f"  known_at: {output.strip()} (wall {elapsed:.1f} s)")
    started = time.monotonic()
    while _base_time(api, operator_key) < loaded:
        if time.monotonic() - started > BASE_WAIT_S:
            raise RuntimeError(f"the API's known_at base did not reach the load in {BASE_WAIT_S:.0f} s")
        time.sleep(2)
    log(f"  known_at: the API's base covered the load {time.monotonic() - started:.1f} s after the checkpoint")


def _redis_fields(ns: Namespace) -> int:
    client = ns.redis()
    partitions = int(ns.env.get("EVENTS_PARTITIONS", EVENTS_PARTITIONS))
    total = sum(int(client.hlen(totals_key(p))) for p in range(partitions))
    client.close()
    return total


def _measure_reads(cfg: BenchConfig, api: ServiceProcess, operator_key: str, events: int, log: Log) -> list[ReadCase]:
    cases = []
    for name, path in _endpoints().items():
        p50, p99, cpu = [], [], []
        requests = min(cfg.read_requests, KNOWN_AT_REQUESTS) if name == KNOWN_AT_CASE else cfg.read_requests
        for _ in range(cfg.reps):
            spec = {
                "mode": "reads",
                "url": api.url + path,
                "requests": requests,
                "concurrency": 1,
                "key": operator_key,
            }
            run = run_loadgen(spec, timeout=600)
            bad = {s: n for s, n in run.report["statuses"].items() if s != "200"}
            if bad:
                raise RuntimeError(f"{name} answered {bad} (api log: {api.log_path})")
            lat = latency(run.report["latencies"])
            p50.append(lat.p50_ms)
            p99.append(lat.p99_ms)
            cpu.append(cpu_percent(run.report["self_cpu_seconds"], run.wall_seconds))
        case = ReadCase(events, name, spread(p50), spread(p99), spread(cpu))
        log(f"  reads @{events:,}: {name} p50 {case.p50_ms.median:.1f} ms, p99 {case.p99_ms.median:.1f} ms")
        cases.append(case)
    return cases


def _rebuild(cfg: BenchConfig, ns: Namespace, log: Log) -> tuple[list[float], RebuildCheck | None]:
    partitions = int(ns.env.get("EVENTS_PARTITIONS", EVENTS_PARTITIONS))
    before = snapshot(ns.env["REDIS_URL"], partitions)
    seconds: list[float] = []
    check: RebuildCheck | None = None
    for rep in range(cfg.rebuild_reps):
        code, elapsed, output = _ctl(ns, "rebuild")
        if code != 0:
            raise RuntimeError(f"settlementctl rebuild exited {code}: {output[-1500:]}")
        seconds.append(elapsed)
        log(f"  rebuild rep {rep + 1}: {elapsed:.1f} s")
        if check is None:
            diff = compare(before, snapshot(ns.env["REDIS_URL"], partitions))
            reconcile, _, _ = _ctl(ns, "reconcile")
            check = RebuildCheck(diff.fields_compared, diff.fields_different, diff.fences_equal, reconcile)
            log(
                f"  bulk path vs rebuild: {diff.fields_different} of {diff.fields_compared} "
                f"fields differ, fences equal: {diff.fences_equal}, reconcile exit {reconcile}"
            )
    return seconds, check


def run_reads_and_growth(
    cfg: BenchConfig, base: dict[str, str], log: Log, measure_reads: bool, measure_rebuild: bool, keep: bool = False
) -> tuple[ReadsResult | None, GrowthResult]:
    with open_namespace(base, "reads", keep=keep) as ns:
        operator = ns.add_operator()
        api = ServiceProcess("api", ns.env, ns.tag) if measure_reads else None
        loader = HistoryLoader(
            ns.database_url,
            ns.env["REDIS_URL"],
            ns.env["EVENTS_TOPIC"],
            ns.env["CONSUMER_GROUP"],
            partitions=int(ns.env.get("EVENTS_PARTITIONS", EVENTS_PARTITIONS)),
        )
        points: list[GrowthPoint] = []
        cases: list[ReadCase] = []
        rebuild_seconds: list[float] = []
        check: RebuildCheck | None = None
        try:
            if api is not None:
                api.wait_healthy()
            for level in cfg.history_levels:
                log(f"  loading history to {level:,} events")
                seconds = loader.load_to(level)
                point = GrowthPoint(
                    level, seconds, ns.redis_memory_bytes(), ns.redis_keys(), _redis_fields(ns), ns.pg_database_bytes()
                )
                points.append(point)
                log(
                    f"  {level:,} events: loaded in {seconds:.1f} s, redis "
                    f"{point.redis_bytes / 1e6:.1f} MB ({point.redis_fields:,} fields), "
                    f"postgres {point.pg_bytes / 1e6:.0f} MB"
                )
                if measure_rebuild and level == cfg.rebuild_level:
                    rebuild_seconds, check = _rebuild(cfg, ns, log)
                if api is not None:
                    _checkpoint_and_wait(ns, api, operator, log)
                    cases += _measure_reads(cfg, api, operator, level, log)
        finally:
            if api is not None:
                api.stop()
    first, last = points[0], points[-1]
    millions = (last.history_events - first.history_events) / 1e6
    growth = GrowthResult(
        points=tuple(points),
        redis_bytes_per_million=(last.redis_bytes - first.redis_bytes) / millions if millions else float("nan"),
        pg_bytes_per_million=(last.pg_bytes - first.pg_bytes) / millions if millions else float("nan"),
        rebuild_events=cfg.rebuild_level if measure_rebuild else 0,
        rebuild_seconds=spread(rebuild_seconds),
        rebuild_check=check,
    )
    if not cases:
        return None, growth
    smallest, largest = cfg.history_levels[0], cfg.history_levels[-1]
    ratios = []
    for name in (*ENDPOINTS, KNOWN_AT_CASE):
        low = next(c for c in cases if c.endpoint == name and c.history_events == smallest)
        high = next(c for c in cases if c.endpoint == name and c.history_events == largest)
        ratios.append(
            ReadRatio(name, largest, smallest, ratio(high.p50_ms, low.p50_ms), ratio(high.p99_ms, low.p99_ms))
        )
    return ReadsResult(tuple(cases), tuple(ratios)), growth
