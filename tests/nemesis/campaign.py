"""One nemesis campaign on the cluster stack: banks record a history while the nemesis runs
a seeded schedule; everything is healed; the checker judges the ledger (plain SQL), the
API's totals (HTTP) and `settlementctl reconcile` against that history; the report is
written next to it. Driven by tests/cluster/test_cluster_3_nemesis.py (`make test-cluster`
with a short fixed seed, `make nemesis` with MINUTES and SEED)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.aggregate import probe
from tests.cluster import harness
from tests.cluster.conftest import Cluster
from tests.nemesis import checker, report
from tests.nemesis.clients import CATEGORIES, BankClient, Mix
from tests.nemesis.history import Recorder, read
from tests.nemesis.nemesis import Nemesis
from tests.nemesis.schedule import Plan, generate, overlapping
from tests.nemesis.toxiproxy import Toxiproxy

SETTLE_S = 300.0  # after the heal: every acknowledged event in the ledger, reconcile clean


@dataclass(frozen=True, slots=True)
class Result:
    verdict: checker.Verdict
    plan: Plan
    folder: Path
    notes: tuple[str, ...]


def ledger_rows(db_url: str) -> list[checker.LedgerRow]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT bank_id, event_id, amount, reverses FROM ledger_events")).all()
    finally:
        engine.dispose()
    return [checker.LedgerRow(str(b), str(e), Decimal(a), r) for b, e, a, r in rows]


def _quiet(check: Callable[..., bool], *args: object) -> bool:
    try:
        return check(*args)
    except Exception:  # a broker still recovering its logs
        return False


def _sample(cluster: Cluster, recorder: Recorder, stop: threading.Event) -> None:
    """Consumer lag every 3 s: end offsets less the group's committed offsets."""
    while not stop.wait(3.0):
        try:
            ends = probe.end_offsets(cluster.env)
            committed = harness.committed_offsets(cluster.env)
            lag = sum(max(0, end - committed.get(p, 0)) for p, end in ends.items())
        except Exception:  # Kafka mid-fault: no sample this time
            lag = None
        recorder.write({"type": "sample", "t": round(time.time(), 3), "lag": lag})


def run(
    cluster: Cluster,
    seed: int,
    minutes: float,
    folder: Path,
    *,
    promote: bool,
    mix: Mix | None = None,
    plan: Plan | None = None,
) -> Result:
    """`plan` replaces the seed's schedule: a minimal schedule that reproduces a finding."""
    custom = plan is not None
    plan = plan or generate(seed, minutes, promote=promote)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"nemesis: seed {seed}, {minutes} minutes, {len(plan.faults)} faults -> {folder}", flush=True)
    recorder = Recorder(folder / "history.jsonl")
    engine = create_engine(cluster.env["DATABASE_URL"])
    bics = {bank: f"NEMB{n}CNBJ" for n, bank in enumerate(sorted(cluster.bank_keys))}
    with engine.begin() as conn:
        for bank, bic in bics.items():
            conn.execute(text("UPDATE banks SET bic = :bic WHERE bank_id = :bank"), {"bic": bic, "bank": bank})
    engine.dispose()
    cluster.start_services(aggregators=2)
    ports = {name: int(url.rsplit(":", 1)[1]) for name, url in cluster.urls.items()}
    proxy = Toxiproxy(cluster.env["TOXIPROXY_URL"]) if cluster.env.get("NEMESIS_PROXY") == "1" else None
    nemesis = Nemesis(cluster.env, cluster.services, ports, recorder, seed, proxy)
    t0_wall, t0 = time.time(), time.monotonic()
    recorder.write(
        {
            "type": "meta",
            "seed": seed,
            "minutes": minutes,
            "t0": t0_wall,
            "planned_faults": len(plan.faults),
            "overlapping": overlapping(plan),
            "proxied": proxy is not None,
            "custom_plan": custom,
        }
    )
    stop_faults, stop_sampler = threading.Event(), threading.Event()
    clients = [
        BankClient(bank, key, bics[bank], cluster.ingest_url, recorder, seed * 31 + n, mix or Mix())
        for n, (bank, key) in enumerate(sorted(cluster.bank_keys.items()))
    ]
    threads = [threading.Thread(target=c.run, daemon=True, name=f"bank-{c.bank}") for c in clients]
    sampler = threading.Thread(target=_sample, args=(cluster, recorder, stop_sampler), daemon=True)
    for thread in [*threads, sampler]:
        thread.start()
    faults = threading.Thread(target=nemesis.run, args=(plan, t0, stop_faults), daemon=True, name="nemesis")
    faults.start()
    notes: list[str] = []
    try:
        time.sleep(max(0.0, t0 + minutes * 60 - time.monotonic()))
    finally:
        stop_faults.set()  # faults under way heal; those still waiting for their lane are skipped
        faults.join(timeout=600)
        if faults.is_alive():
            notes.append("a fault had not healed 10 min after the plan's end")
        healed = nemesis.heal_all()
        notes += [f"heal at the end: {h}" for h in healed]
        for client in clients:
            client.stop.set()
        for thread in threads:
            thread.join(timeout=300)
    if nemesis.skipped:
        notes.append(f"{len(nemesis.skipped)} planned faults skipped: their lane was still busy at the end")
    notes += [f"nemesis: {e}" for e in nemesis.errors]
    notes += [f"client {c.bank}: {type(c.error).__name__}: {c.error}" for c in clients if c.error is not None]
    notes += [f"client {t.name} still running after 300 s" for t in threads if t.is_alive()]
    # The next test (make test-cluster) and the checker start from a whole cluster again:
    # every Redis node agreeing the cluster is ok, every partition of the topic at full ISR.
    for what, check in (
        ("redis cluster ok", lambda: harness.redis_cluster_ok(cluster.env)),
        ("full ISR", lambda: _quiet(harness.isr_full, cluster.env, cluster.env["EVENTS_TOPIC"])),
    ):
        try:
            harness.wait_until(what, check, timeout=180, interval=2)
        except AssertionError as exc:
            notes.append(f"after the heal: {exc}")
    verdict = _settle_and_judge(cluster, folder, recorder, notes)
    stop_sampler.set()
    sampler.join(timeout=10)
    recorder.close()
    history = read(folder / "history.jsonl")
    (folder / "summary.md").write_text(report.summary(history, verdict, notes))
    report.timeline(history, folder / "timeline.png")
    (folder / "plan.json").write_text(json.dumps([f.as_json() for f in plan.faults], indent=1))
    print((folder / "summary.md").read_text(), flush=True)
    return Result(verdict, plan, folder, tuple(notes))


def _settle_and_judge(cluster: Cluster, folder: Path, recorder: Recorder, notes: list[str]) -> checker.Verdict:
    """Wait (bounded) until the ledger holds every acknowledged event and reconcile exits 0,
    then judge. A timeout is not an error here: the verdict then names what is missing."""
    history = read(folder / "history.jsonl")
    acked = set(checker.acknowledged(history))
    deadline = time.monotonic() + SETTLE_S
    rc = 1
    while time.monotonic() < deadline:
        try:
            present = {(r.bank, r.event_id) for r in ledger_rows(cluster.env["DATABASE_URL"])}
        except Exception as exc:
            notes.append(f"ledger read failed once: {type(exc).__name__}")
            time.sleep(2)
            continue
        if acked <= present:
            result = probe.settlementctl(cluster.env, "reconcile", "--max-lag", "0")
            rc = result.returncode
            if rc == 0:
                break
            last = (result.stdout + result.stderr)[-1500:]
        time.sleep(3)
    else:
        notes.append(f"not settled within {SETTLE_S:.0f}s of the heal (reconcile exit {rc})")
        if rc != 0 and "last" in locals():
            notes.append(f"reconcile said: {last!r}")
    return checker.judge(history, ledger_rows(cluster.env["DATABASE_URL"]), cluster.api_settled(), rc, CATEGORIES)
