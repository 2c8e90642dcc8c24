"""Stage `receipts` (issue 29): the end-to-end rate with the transparency log off and on, in
one run on the same machine, the repetitions alternating (bench.reporting.receipts).

Two namespaces side by side, each with its own ingest, aggregate and api as stage 4 runs them:

- **off**: ingest without the log's keys (its 202 answers carry no receipt), no integrator;
- **on**: ingest with `TLOG_SIGNING_KEY` and `TLOG_SALT_KEY` (it signs a receipt promise for
  every accepted event, as `deploy/local/stack.sh` starts it), and the integrator
  (`python -m settlement_aggregate.integrator`, the product's pacing defaults) running for
  each on repetition, appending the ledger's rows to the log and signing checkpoints.

Both stacks stay up through the stage, so each side's idle processes cost the other side's
repetitions the same; the integrator is stopped outside the on repetitions (after it has
logged every row), so it costs the off side nothing.

The end-to-end rate of a repetition is the rate at which the aggregator counted its events
(committed offsets in the ledger, sampled every 0.25 s, from 1 % to 99 % of them, like stage
3's steady rate): acknowledged and counted, which a slow aggregator or ingest both lower.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import create_engine, select

from bench.config import BenchConfig, Log
from bench.harness.ledger import committed_events, ledger_rows
from bench.harness.namespace import Namespace, open_namespace
from bench.harness.processes import ServiceProcess
from bench.load.generator import event_json
from bench.reporting.receipts import (
    OFF,
    ON,
    alternating_order,
    counted_rate,
    describe_cost,
    on_off_ratio,
    paired_ratios,
    per_event_us,
    side_values,
)
from bench.reporting.results import ReceiptsRate, ReceiptsResult
from bench.reporting.stats import Spread, spread
from bench.stages.e2e import PROBE_CATEGORY, Repetition, Stack, describe, run_repetition, summarise, wait_drained
from settlement_core.tlog.keys import SigningKey
from settlement_core.tlog.schema import TLOG_STATE

ORIGIN = "bench.settlement-tracker.local/log"
# The log's settings; the off side's processes must not inherit them from the caller.
LOG_KEYS = ("TLOG_ORIGIN", "TLOG_SIGNING_KEY", "TLOG_SALT_KEY", "TLOG_RETIRED_KEYS")
SAMPLE_EVERY_S = 0.25
# The integrator must have logged every ledger row within this after the aggregator counted
# the last one; else the stage says so (its backlog) and goes on.
CATCH_UP_TIMEOUT_S = 120.0


def log_settings() -> dict[str, str]:
    """Fresh keys for this run, like test_receipts_live: the bench never reads the stack's
    secrets file, and these keys sign nothing that outlives the namespace."""
    return {
        "TLOG_ORIGIN": ORIGIN,
        "TLOG_SIGNING_KEY": SigningKey.generate(ORIGIN).encode(),
        "TLOG_SALT_KEY": os.urandom(32).hex(),
    }


@dataclass(slots=True)
class Side:
    mode: str
    ns: Namespace
    stack: Stack
    log_env: dict[str, str] | None  # the on side: the log's settings

    def integrator(self) -> ServiceProcess:
        env = {**self.ns.env, **(self.log_env or {})}
        # The integrator needs PostgreSQL only: no Kafka credentials.
        return ServiceProcess("integrator", env, self.ns.tag, unset=("KAFKA_USERNAME", "KAFKA_PASSWORD", "REDIS_URL"))


def _start_side(ns: Namespace, mode: str, started: list[ServiceProcess]) -> Side:
    """The side's ingest, aggregate and api, appended to `started` as they start (the caller
    stops them)."""
    banks = ns.add_banks(12)
    probe = ns.add_banks(1, prefix="bench-probe")[0]
    operator = ns.add_operator()
    log_env = log_settings() if mode == ON else None
    mine: list[ServiceProcess] = []
    for name in ("ingest", "aggregate", "api"):
        if name == "ingest" and log_env is not None:
            mine.append(ServiceProcess(name, {**ns.env, **log_env}, ns.tag))
        else:
            mine.append(ServiceProcess(name, ns.env, ns.tag, unset=LOG_KEYS))
        started.append(mine[-1])
    for service in mine:
        service.wait_healthy()
    stack = Stack(
        ingest=mine[0],
        aggregate=mine[1],
        api=mine[2],
        keys=[b.key for b in banks],
        probe_key=probe.key,
        operator_key=operator,
    )
    return Side(mode, ns, stack, log_env)


def check_receipts(side: Side) -> bool:
    """One event through the side's ingest: the answer carries a receipt exactly when the log
    is on. A stage whose on side signs nothing would measure nothing."""
    event = event_json(f"rcpt-check-{side.mode}-{os.urandom(4).hex()}", PROBE_CATEGORY, random.Random(1))
    body = '{"events":[' + event + "]}"
    answer = httpx.post(
        f"{side.stack.ingest.url}/v1/events/batch",
        content=body,
        headers={"Authorization": f"Bearer {side.stack.keys[0]}", "Content-Type": "application/json"},
        timeout=30.0,
    )
    answer.raise_for_status()
    items = answer.json()["results"]
    has_receipt = bool(items) and all("receipt" in item for item in items)
    return has_receipt == (side.mode == ON)


class CountSampler:
    """Samples the namespace's committed events (and, with the log on, the log's size) every
    SAMPLE_EVERY_S in a thread, while a repetition runs."""

    def __init__(self, ns: Namespace, with_log: bool) -> None:
        self._engine = create_engine(ns.database_url, pool_size=1)
        self._topic = ns.env["EVENTS_TOPIC"]
        self._with_log = with_log
        self.counted: list[tuple[float, float]] = []
        self.logged: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def read(self) -> tuple[int, int]:
        with self._engine.connect() as conn:
            counted = committed_events(conn, self._topic)
            logged = int(conn.execute(select(TLOG_STATE.c.size)).scalar() or 0) if self._with_log else 0
        return counted, logged

    def sample(self) -> tuple[int, int]:
        """Read and record one sample (the thread's, or the caller's last one once drained:
        the thread may have slept through the moment the count reached the end)."""
        counted, logged = self.read()
        now = time.monotonic()
        self.counted.append((now, float(counted)))
        self.logged.append((now, float(logged)))
        return counted, logged

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(SAMPLE_EVERY_S)

    def __enter__(self) -> CountSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._engine.dispose()


@dataclass(frozen=True, slots=True)
class Measured:
    repetition: Repetition
    counted_per_s: float
    log_backlog: float  # nan with the log off
    log_catch_up_s: float
    # CPU µs per counted event of each service, from the start of the load until the
    # aggregator (and, with the log on, the integrator) had caught up: what the work costs,
    # which the machine's other load changes far less than it changes the rates.
    cpu_us_per_event: dict[str, float]


def _log_size_and_rows(ns: Namespace) -> tuple[int, int]:
    engine = create_engine(ns.database_url)
    try:
        with engine.connect() as conn:
            size = int(conn.execute(select(TLOG_STATE.c.size)).scalar() or 0)
            rows = ledger_rows(conn)
    finally:
        engine.dispose()
    return size, rows


def _wait_logged(ns: Namespace, log: Log, timeout: float = CATCH_UP_TIMEOUT_S) -> tuple[int, float]:
    """Wait until the log holds every ledger row; (rows not logged when called, seconds)."""
    t0 = time.monotonic()
    size, rows = _log_size_and_rows(ns)
    backlog = rows - size
    while size < rows and time.monotonic() - t0 < timeout:
        time.sleep(SAMPLE_EVERY_S)
        size, rows = _log_size_and_rows(ns)
    if size < rows:
        log(f"  warning: the log holds {size:,} of {rows:,} ledger rows after {timeout:.0f} s")
        return backlog, float("nan")
    return backlog, time.monotonic() - t0


def _measure(cfg: BenchConfig, side: Side, target: float, log: Log) -> Measured:
    integrator: ServiceProcess | None = None
    try:
        if side.mode == ON:
            integrator = side.integrator()
            integrator.wait_healthy()
            _wait_logged(side.ns, log)  # the previous repetitions' rows are the log's, not this one's
        wait_drained(side.ns, log)
        stack = Stack(
            ingest=side.stack.ingest,
            aggregate=side.stack.aggregate,
            api=side.stack.api,
            keys=side.stack.keys,
            probe_key=side.stack.probe_key,
            operator_key=side.stack.operator_key,
            extra=(integrator,) if integrator else (),
        )
        cpu_before = {s.name: s.cpu_seconds() for s in stack.services}
        with CountSampler(side.ns, with_log=integrator is not None) as sampler:
            base, _ = sampler.read()
            started = time.monotonic()
            repetition = run_repetition(cfg, stack, target)
            wait_drained(side.ns, log)
            final, _ = sampler.sample()
        total = final - base
        counted = counted_rate(sorted((t - started, c - base) for t, c in sampler.counted), total)
        backlog, catch_up = (float("nan"), float("nan"))
        if integrator is not None:
            pending, seconds = _wait_logged(side.ns, log)
            backlog, catch_up = float(pending), seconds
        cpu_us = {s.name: per_event_us(s.cpu_seconds() - cpu_before[s.name], total) for s in stack.services}
        return Measured(repetition, counted, backlog, catch_up, cpu_us)
    finally:
        if integrator is not None:
            integrator.stop()


def _run_rate(cfg: BenchConfig, sides: dict[str, Side], target: float, log: Log) -> ReceiptsRate:
    order = alternating_order(cfg.reps)
    done: list[Measured] = []
    for i, mode in enumerate(order):
        m = _measure(cfg, sides[mode], target, log)
        done.append(m)
        cpu = ", ".join(f"{k} {v:,.0f}" for k, v in m.cpu_us_per_event.items())
        extra = f", log backlog {m.log_backlog:,.0f} logged in {m.log_catch_up_s:.1f} s" if mode == ON else ""
        extra += f"; CPU µs/event {cpu}"
        log(f"  receipts log {mode}: {describe(target, i + 1, m.repetition)}, counted {m.counted_per_s:,.0f}/s{extra}")
    counted = [m.counted_per_s for m in done]
    counted_off = spread(side_values(order, counted, OFF))
    counted_on = spread(side_values(order, counted, ON))
    off_case = summarise(target, [m.repetition for s, m in zip(order, done, strict=True) if s == OFF])
    on_case = summarise(target, [m.repetition for s, m in zip(order, done, strict=True) if s == ON])
    on_ms = [m for s, m in zip(order, done, strict=True) if s == ON]
    rate_ratio = on_off_ratio(counted_off, counted_on)
    log(f"  receipts at {target:,.0f}/s offered: {describe_cost(rate_ratio)}")
    return ReceiptsRate(
        target_rate=target,
        order=order,
        off=off_case,
        on=on_case,
        counted_per_s=tuple(counted),
        counted_off=counted_off,
        counted_on=counted_on,
        ratio=rate_ratio,
        paired=paired_ratios(order, counted),
        acked_ratio=on_off_ratio(off_case.achieved_rate, on_case.achieved_rate),
        log_backlog=spread([m.log_backlog for m in on_ms]),
        log_catch_up_s=spread([m.log_catch_up_s for m in on_ms]),
        cpu_us_per_event_off=_cpu_per_event([m for s, m in zip(order, done, strict=True) if s == OFF]),
        cpu_us_per_event_on=_cpu_per_event(on_ms),
    )


def _cpu_per_event(side: list[Measured]) -> dict[str, Spread]:
    names = list(side[0].cpu_us_per_event) if side else []
    return {name: spread([m.cpu_us_per_event[name] for m in side]) for name in names}


def run_receipts(cfg: BenchConfig, base: dict[str, str], log: Log, keep: bool = False) -> ReceiptsResult:
    started: list[ServiceProcess] = []
    with open_namespace(base, "rcpt_off", keep=keep) as ns_off, open_namespace(base, "rcpt_on", keep=keep) as ns_on:
        try:
            sides = {OFF: _start_side(ns_off, OFF, started), ON: _start_side(ns_on, ON, started)}
            checked = all(check_receipts(side) for side in sides.values())
            if not checked:
                raise RuntimeError("the on side's answers must carry receipts and the off side's none")
            rates = tuple(_run_rate(cfg, sides, target, log) for target in cfg.receipts_rates)
            # Every ledger row of the on side must be in its log at the end; none on the off side.
            on_integrator = sides[ON].integrator()
            started.append(on_integrator)
            on_integrator.wait_healthy()
            _wait_logged(ns_on, log)
            on_integrator.stop()
            size_on, rows_on = _log_size_and_rows(ns_on)
            size_off, _ = _log_size_and_rows(ns_off)
        finally:
            for service in started:
                service.stop()
    return ReceiptsResult(
        rates=rates, receipts_checked=checked, log_size=size_on, ledger_rows_on=rows_on, log_size_off=size_off
    )
