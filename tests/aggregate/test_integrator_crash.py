"""The integrator process (python -m settlement_aggregate.integrator) SIGKILLed again and
again while ledger rows keep arriving, two instances competing for the lock: the log never
has a gap or a duplicate, every ledger row ends up in it exactly once, the newest checkpoint's
root is the root of the leaves recomputed from the ledger, every checkpoint extends the one
before, and proofs verify with the bank's verifier.

Half the kills wait until an instance holds the advisory lock, i.e. is inside a step's
transaction (TLOG_FAULT_PAUSE_S keeps each step's transaction open 0.3 s after writing), so
those are kills in the middle of a batch for certain; the others land at random times.
"""

from __future__ import annotations

import itertools
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from settlement_client.tlog.checkpoint import open_checkpoint
from settlement_client.tlog.leaf import Leaf, received_at_text
from settlement_client.tlog.proofs import verify_consistency
from settlement_client.tlog.tlog_proof import verify_tlog_proof
from settlement_core.tlog.integrate import ADVISORY_LOCK_KEY
from settlement_core.tlog.signing import derive_salt
from settlement_core.tlog.store import LogReader
from settlement_core.tlog.tree import MemorySubtrees, Tree
from tests.conftest import ARTIFACTS, ServiceRunner
from tests.settlement_core.tlog.ledger_rows import ORIGIN, SALT_KEY, insert_rows, new_database, new_keys
from tests.support.databases import TestDatabases

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KILLS = 8
NAMES = ("integrator-a", "integrator-b")
# A loaded 2-core machine takes 15 s to start a Python process with these imports.
START_TIMEOUT_S = 180


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, f"no {what} after {START_TIMEOUT_S} s"
        time.sleep(0.01)


def _log_says(path: Path, text: str) -> bool:
    return text in path.read_text()


def _truncate(path: Path) -> None:
    if path.exists():
        path.write_text("")


@pytest.fixture
def engine_and_url(test_databases: TestDatabases) -> Iterator[tuple[Engine, str]]:
    url = new_database(test_databases)
    engine = create_engine(url)
    yield engine, url
    engine.dispose()


def _invariants(engine: Engine) -> int:
    # One snapshot for the three reads: the other instance may be committing meanwhile.
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        count, distinct_rows, top = conn.execute(
            text("SELECT count(*), count(DISTINCT ledger_row_id), coalesce(max(idx), -1) FROM tlog_leaves")
        ).one()
        size = conn.execute(text("SELECT size FROM tlog_state")).scalar_one()
        newest = conn.execute(text("SELECT coalesce(max(size), 0) FROM tlog_checkpoints")).scalar_one()
    assert count == top + 1 == size == newest, (count, top, size, newest)  # no gap, checkpointed
    assert distinct_rows == count  # no ledger row twice
    return int(size)


def _lock_held(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k AND granted"),
                {"k": ADVISORY_LOCK_KEY},
            ).scalar_one()
        )


def test_sigkill_at_any_point_leaves_no_gap_and_no_duplicate(engine_and_url: tuple[Engine, str]) -> None:
    engine, url = engine_and_url
    keys = new_keys()
    env = {
        "DATABASE_URL": url,
        "TLOG_ORIGIN": ORIGIN,
        "TLOG_SIGNING_KEY": keys.active.encode(),
        "TLOG_SALT_KEY": SALT_KEY.hex(),
        "TLOG_BATCH_SIZE": "150",
        "TLOG_INTERVAL_S": "0.05",
        "TLOG_FAULT_PAUSE_S": "0.3",
    }
    runner = ServiceRunner(env, ARTIFACTS / "integrator-crash")
    rng = random.Random(29)
    stop_writing = threading.Event()

    def write() -> None:
        n = 0
        while not stop_writing.is_set():
            with engine.begin() as conn:
                insert_rows(conn, f"BANK{n % 3}", n, 40, applied_at=datetime.now(UTC))
            n += 40
            time.sleep(0.02)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    mid_batch_kills = 0
    logs = ARTIFACTS / "integrator-crash"
    try:
        for name in NAMES:
            runner.start(name, "settlement_aggregate.integrator", wait=False)
        for kill in range(KILLS):
            if kill % 2 == 0:
                _wait(lambda: _lock_held(engine), "an integrator holding the lock")
                # whichever instance holds the lock is inside a step: kill both to be sure
                for name in NAMES:
                    runner.kill(name)
                mid_batch_kills += 1
                for name in NAMES:
                    _truncate(logs / f"{name}.log")
                    runner.start(name, "settlement_aggregate.integrator", wait=False)
            else:
                name = NAMES[kill % 4 // 2]
                _wait(partial(_log_says, logs / f"{name}.log", "integrator started"), f"{name} started")
                time.sleep(rng.uniform(0.0, 1.0))
                runner.kill(name)
                _truncate(logs / f"{name}.log")
                runner.start(name, "settlement_aggregate.integrator", wait=False)
            _invariants(engine)
    finally:
        stop_writing.set()
        writer.join(timeout=30)
        runner.stop_all()
    assert mid_batch_kills == KILLS // 2
    size_after_kills = _invariants(engine)

    # drain: one clean instance logs everything left
    runner.start(
        "integrator-final", "settlement_aggregate.integrator", wait=False, extra_env={"TLOG_FAULT_PAUSE_S": "0"}
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            with engine.connect() as conn:
                ledger = conn.execute(text("SELECT count(*) FROM ledger_events")).scalar_one()
            if _invariants(engine) == ledger:
                break
            assert time.monotonic() < deadline, "the integrator did not catch up"
            time.sleep(0.2)
    finally:
        runner.kill("integrator-final", signal.SIGTERM)
    assert ledger > size_after_kills > 0

    with engine.connect() as conn:
        rows = conn.execute(
            text("""SELECT e.bank_id, e.event_id, e.body_hash, e.ingested_at FROM tlog_leaves l
                    JOIN ledger_events e ON e.id = l.ledger_row_id ORDER BY l.idx""")
        ).all()
        leaves = [
            Leaf(
                r.bank_id,
                r.event_id,
                bytes(r.body_hash).hex(),
                received_at_text(r.ingested_at),
                derive_salt(SALT_KEY, r.bank_id, r.event_id),
            )
            for r in rows
        ]
        reader = LogReader(conn)
        latest = reader.latest_checkpoint()
        assert latest is not None
        checkpoint = open_checkpoint(latest.note, ORIGIN, keys.published)
        assert checkpoint.size == len(leaves)
        assert checkpoint.root_hash == Tree(MemorySubtrees([x.leaf_hash() for x in leaves]), len(leaves)).root()
        sizes = [r[0] for r in conn.execute(text("SELECT size FROM tlog_checkpoints ORDER BY size"))]
        for old, new in itertools.pairwise(sizes):
            a, b = reader.checkpoint_at(old), reader.checkpoint_at(new)
            assert a is not None
            assert b is not None
            verify_consistency(reader.consistency(old, new), a.root_hash, b.root_hash)
        for leaf in random.Random(7).sample(leaves, min(150, len(leaves))):
            proof = reader.proof(leaf.bank_id, leaf.event_id)
            assert proof is not None
            assert verify_tlog_proof(proof.encode(), ORIGIN, keys.published).leaf == leaf
