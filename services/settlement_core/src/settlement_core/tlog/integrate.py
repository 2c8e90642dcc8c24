"""One integrator step: append the committed ledger rows not yet in the log and sign a
checkpoint, all in the caller's single transaction.

Exactly one writer: the step first takes a transaction-scoped PostgreSQL advisory lock
(pg_try_advisory_xact_lock) and returns at once if another integrator holds it; the lock
and every row written go away together if the process dies (SIGKILL included), so a crash at
any point leaves the log as the last commit left it: no gap (leaf indexes continue from
tlog_state.size, which is updated in the same transaction) and no duplicate (one leaf per
ledger row, enforced by a unique constraint as well).

Which rows are new: ledger ids are taken when a ledger transaction inserts, not when it
commits, so a row with a smaller id can become visible after a larger one. The step
therefore looks for rows *not in the log* (an anti-join) above `low_water`, and raises
`low_water` only to ids whose rows were applied more than `lag_s` ago: a ledger transaction
open longer than that (the aggregator's take milliseconds to seconds) could leave a row
below the mark, which `settlementctl log verify` reports.

The step reads ledger_events without locks: it never blocks the aggregator's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from settlement_client.tlog.checkpoint import Checkpoint
from settlement_core.tlog.compact import CompactRange
from settlement_core.tlog.keys import LogKeys
from settlement_core.tlog.ledger_leaf import ledger_leaf
from settlement_core.tlog.schema import TLOG_CHECKPOINTS, TLOG_KEYS, TLOG_LEAVES, TLOG_NODES, TLOG_STATE
from settlement_core.tlog.signing import derive_salt, sign_checkpoint
from settlement_core.tlog.store import read_edge

# pg advisory lock key: "tlog" in ASCII. One per database, so one integrator per ledger.
ADVISORY_LOCK_KEY = 0x746C6F67

_NEW_ROWS = text("""
    SELECT e.id, e.bank_id, e.event_id, e.body_hash, e.ingested_at
    FROM ledger_events e
    WHERE e.id > :low AND NOT EXISTS (SELECT 1 FROM tlog_leaves l WHERE l.ledger_row_id = e.id)
    ORDER BY e.id
    LIMIT :batch
""")
_FIRST_UNLOGGED = text("""
    SELECT min(e.id) FROM ledger_events e
    WHERE e.id > :low AND NOT EXISTS (SELECT 1 FROM tlog_leaves l WHERE l.ledger_row_id = e.id)
""")
_SETTLED_MAX = text("SELECT max(e.id) FROM ledger_events e WHERE e.id > :low AND e.applied_at < :cutoff")


@dataclass(frozen=True, slots=True)
class StepResult:
    locked_out: bool  # another integrator holds the lock: nothing was done
    appended: int
    size: int
    signed: bool  # a new checkpoint was stored


def integrate_once(
    conn: Connection, keys: LogKeys, salt_key: bytes, *, batch: int, lag_s: float, now: datetime
) -> StepResult:
    """Run inside one transaction (`with engine.begin() as conn`); the caller commits."""
    if not conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar_one():
        return StepResult(True, 0, -1, False)
    state = conn.execute(
        select(TLOG_STATE.c.size, TLOG_STATE.c.low_water).where(TLOG_STATE.c.id == 1).with_for_update()
    ).one()
    size, low = int(state.size), int(state.low_water)
    rows = conn.execute(_NEW_ROWS, {"low": low, "batch": batch}).all()

    compact = CompactRange(size, read_edge(conn, size))
    leaves, nodes = [], []
    for row in rows:
        salt = derive_salt(salt_key, row.bank_id, row.event_id)
        leaf = ledger_leaf(row.bank_id, row.event_id, bytes(row.body_hash), row.ingested_at, salt)
        index = compact.size
        nodes.extend(compact.append(leaf.leaf_hash()))
        leaves.append(
            {
                "idx": index,
                "ledger_row_id": row.id,
                "leaf_hash": leaf.leaf_hash(),
                "salt": bytes.fromhex(salt),
                "leaf_data": leaf.canonical_json(),
            }
        )
    if leaves:
        conn.execute(insert(TLOG_LEAVES), leaves)
    if nodes:
        conn.execute(insert(TLOG_NODES), [{"level": n.level, "idx": n.index, "hash": n.hash} for n in nodes])

    first_unlogged = conn.execute(_FIRST_UNLOGGED, {"low": low}).scalar()
    settled = conn.execute(_SETTLED_MAX, {"low": low, "cutoff": now - timedelta(seconds=lag_s)}).scalar()
    ceiling = (first_unlogged - 1) if first_unlogged is not None else (settled if settled is not None else low)
    new_low = max(low, min(ceiling, settled if settled is not None else low))

    signed = False
    has_checkpoint = conn.execute(
        select(TLOG_CHECKPOINTS.c.size).where(TLOG_CHECKPOINTS.c.size == compact.size)
    ).first()
    if has_checkpoint is None:
        published = [{"vkey": k.encode(), "first_used": now} for k in keys.published]
        conn.execute(pg_insert(TLOG_KEYS).values(published).on_conflict_do_nothing())
        root = compact.root()
        note = sign_checkpoint(keys, Checkpoint(keys.origin, compact.size, root))
        conn.execute(insert(TLOG_CHECKPOINTS).values(size=compact.size, root_hash=root, note=note, signed_at=now))
        signed = True
    conn.execute(update(TLOG_STATE).where(TLOG_STATE.c.id == 1).values(size=compact.size, low_water=new_low))
    return StepResult(False, len(leaves), compact.size, signed)
