"""Knowledge checkpoints: the ledger's effects summed per knowledge-time group up to a time,
so that a `known_at` read sums a checkpoint and the effects committed since instead of the
whole ledger (kit/known_at.py reads them; docs/statistics.md, known_at performance).

What a checkpoint holds: the raw groups a knowledge-time read starts from (bank, declared
categories, currency, value date, direction, country class, sign), exact numeric sums and
event counts, nothing derived: rules, FX and disclosure are applied at read time as before,
so a rule change (`settlementctl rebuild` records a new rule set) needs no new checkpoint.
Only the country grouping depends on the rules (their home country), so a checkpoint records
the home country it was grouped for and a read uses only those of its own rule set's home.
The ledger's effects are append-only (nothing rewrites or deletes them: rebuild and replay
read them), so a checkpoint never goes stale.

When it is safe to write one at time T: every effect with processed_at <= T must have been
committed, and none may commit later. A batch's processed_at is the server clock read in the
aggregator's ledger transaction after it locked its partitions' consumer_offsets rows FOR
UPDATE (settlement_aggregate.ledger._COMMIT_TIME_SQL), and it stays locked until commit. T is
therefore taken as `knowledge_barrier`'s time: the clock read before a FOR SHARE lock of every
consumer_offsets row, which waits for every batch that had read an earlier time. The groups
are then summed in a new REPEATABLE READ transaction that starts after the barrier, so it
sees all of them; batches that lock after the barrier read later times and fall into the
next checkpoint's tail. In-flight batches are thus handled by waiting, not by a guessed lag:
the barrier waits at most one batch transaction (the aggregator's, tens of ms), and the
aggregator never waits for the writer longer than the barrier's lock statement itself (the
summing runs after the barrier's transaction has ended).

Who writes: `checkpoint_once` is run by `settlementctl checkpoint` and periodically by each
API process (`checkpoint_periodically`, every KNOWN_AT_CHECKPOINT_SECONDS, default hourly; the
same task moves the process's in-memory base forward every KNOWN_AT_BASE_SECONDS:
known_at.KnownBase); a transaction
advisory lock lets one writer work at a time, the others skip. Each new checkpoint is the
previous one plus its tail (one INSERT ... SELECT), so its cost is the number of groups plus
the effects since, not the ledger. The newest KNOWN_AT_CHECKPOINTS_KEPT are kept; a read
before the oldest kept one scans the ledger as without checkpoints (same result, slower).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, text

from settlement_api.kit.known_at import (
    CHECKPOINT_COLUMNS,
    MERGED_GROUPS,
    checkpoint_at,
    country_classes,
    knowledge_barrier,
    known_base,
    ledger_snapshot,
    rules_at,
)
from settlement_core.rules import CountingRules

logger = logging.getLogger(__name__)

# One writer at a time across every API process and settlementctl (an arbitrary constant:
# "KCPT" in ASCII). A transaction lock: released at commit or rollback, never left behind.
_WRITER_LOCK = text("SELECT pg_try_advisory_xact_lock(1262702676)")
_INSERT_CHECKPOINT = text("""
    INSERT INTO knowledge_checkpoints (at, home_country, groups, written_at)
    VALUES (:at, :home, 0, clock_timestamp()) RETURNING id
""")
# The new checkpoint's groups: the previous checkpoint plus its tail, or (none before) the
# tail since -infinity, i.e. every effect up to :upto.
_FILL = text(
    f"INSERT INTO knowledge_checkpoint_groups (checkpoint_id, {CHECKPOINT_COLUMNS}) "  # noqa: S608
    f"SELECT :new, {CHECKPOINT_COLUMNS} FROM ({MERGED_GROUPS}) m"
)
_COUNT = text("UPDATE knowledge_checkpoints SET groups = :groups WHERE id = :id")
# Whether any effect was committed after the previous checkpoint (the BRIN index answers it).
_ANY_SINCE = text("SELECT EXISTS (SELECT 1 FROM ledger_effects WHERE processed_at > :after AND processed_at <= :upto)")
_PRUNE = text("""
    DELETE FROM knowledge_checkpoints WHERE id NOT IN (
      SELECT id FROM knowledge_checkpoints ORDER BY at DESC, id DESC LIMIT :keep)
""")
# Summarise the BRIN ranges filled since the last (auto)vacuum: a range not yet summarised is
# read by every tail scan. Recent ranges hold the tail anyway; this keeps older ones out of it
# when autovacuum has not run yet (a bulk load of 10^7 effects, say).
_SUMMARISE = text("SELECT brin_summarize_new_values('ix_effects_processed_at')")
_NO_CHECKPOINT = datetime.fromisoformat("0001-01-01T00:00:00+00:00")


@dataclass(frozen=True, slots=True)
class Written:
    """A checkpoint written: its id, knowledge time, home country, group count and the
    checkpoint it was built on (None: from the whole ledger)."""

    id: int
    at: datetime
    home_country: str
    groups: int
    built_on: int | None


def checkpoint_once(engine: Engine, fallback: CountingRules, keep: int, at: datetime | None = None) -> Written | None:
    """Write a checkpoint at a knowledge barrier's time, or at the earlier `at` (module doc),
    and keep the newest `keep`; None when another writer holds the lock or nothing was
    committed since the previous one (sync: run it in a worker thread from async code).
    A later `at` is a ValueError: effects up to it may still be in flight."""
    barrier = knowledge_barrier(engine)
    if at is None:
        at = barrier
    elif at > barrier:
        raise ValueError(f"checkpoint time {at.isoformat()} is after the knowledge barrier {barrier.isoformat()}")
    with ledger_snapshot(engine) as conn:
        if not conn.execute(_WRITER_LOCK).scalar_one():
            return None
        written = _write(conn, at, rules_at(conn, at, fallback).rules.home_country)
        if written is not None:
            conn.execute(_PRUNE, {"keep": max(1, keep)})
    if written is not None:
        with engine.begin() as conn:
            conn.execute(_SUMMARISE)
        logger.info(
            "knowledge checkpoint written",
            extra={"checkpoint": written.id, "at": written.at.isoformat(), "groups": written.groups},
        )
    return written


def _write(conn: Connection, at: datetime, home: str) -> Written | None:
    previous = checkpoint_at(conn, at, home)
    after = _NO_CHECKPOINT if previous is None else previous.at
    if previous is not None and not conn.execute(_ANY_SINCE, {"after": after, "upto": at}).scalar_one():
        return None
    new = int(conn.execute(_INSERT_CHECKPOINT, {"at": at, "home": home}).scalar_one())
    params = {
        "new": new,
        "checkpoint": None if previous is None else previous.id,
        "after": after,
        "upto": at,
        **country_classes(home),
    }
    groups = conn.execute(_FILL, params).rowcount
    conn.execute(_COUNT, {"groups": groups, "id": new})
    return Written(new, at, home, groups, None if previous is None else previous.id)


async def checkpoint_periodically(
    engine: Engine,
    fallback: CountingRules,
    base_seconds: float,
    checkpoint_seconds: float,
    keep: int,
    maintenance: Engine | None = None,
) -> None:
    """Until cancelled: move this process's in-memory base (known_at.KnownBase) of `engine`
    (the one requests read through) to now at once and then every `base_seconds`, and try to
    write a checkpoint every `checkpoint_seconds`. The database work runs on `maintenance`
    when given: a checkpoint of 10^7 effects is one INSERT ... SELECT of 221 s (measured),
    far beyond the request engine's round-trip deadline. A failure is logged and retried at
    the next period: reads stay exact without either, only slower."""
    base = known_base(engine)
    work = engine if maintenance is None else maintenance
    loop = asyncio.get_running_loop()
    last_checkpoint = loop.time()
    while True:
        if loop.time() - last_checkpoint >= checkpoint_seconds:
            last_checkpoint = loop.time()
            try:
                await asyncio.to_thread(checkpoint_once, work, fallback, keep)
            except Exception:
                logger.exception("knowledge checkpoint failed; reads scan the ledger past the last one")
        try:
            await asyncio.to_thread(base.advance, work, fallback)
        except Exception:
            logger.exception("known_at base not advanced; reads sum a longer tail or scan the ledger")
        await asyncio.sleep(base_seconds)
