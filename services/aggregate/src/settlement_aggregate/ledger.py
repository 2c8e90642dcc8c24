"""Step 3: the PostgreSQL ledger of record (repository; all SQL lives here).

One transaction per batch writes ledger_events, ledger_effects, dlq_events and
consumer_offsets. The partition's consumer_offsets row is locked first (`SELECT ... FOR
UPDATE`, in partition order so two instances never deadlock) and compared with the
position this instance believes it holds: if another instance moved it (a rebalance this
zombie has not noticed yet, or an operator's `settlementctl replay`), that partition's
records are dropped from the batch and the caller re-seeks. That row lock is the fence
that makes every offset's effects committed exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, cast

import psycopg
from sqlalchemy import Column, Connection, Engine, Table, bindparam, insert, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert

from settlement_aggregate.decode import InvalidRecord, Valid
from settlement_aggregate.planning import BatchPlan, plan_batch, referenced_keys
from settlement_aggregate.rows import Key, LedgerRow
from settlement_core.buckets import Effect
from settlement_core.db.models import LEDGER_EFFECTS, ConsumerOffset, DlqEvent, LedgerEvent
from settlement_core.errors import ConcurrentLedgerWrite, JournalMismatch
from settlement_core.money import to_minor
from settlement_core.vocabulary import LedgerStatus

logger = logging.getLogger(__name__)

_EVENTS = cast(Table, LedgerEvent.__table__)
_EFFECTS = LEDGER_EFFECTS
_DLQ = cast(Table, DlqEvent.__table__)
_OFFSETS = cast(Table, ConsumerOffset.__table__)

# The COPY column lists and binary types come from the SQLAlchemy tables, so the schema is
# spelt out once (settlement_core.db.models). Binary COPY: about 3x cheaper per row than text
# COPY here (psycopg packs ints, dates, numerics and timestamps without formatting them as
# text; measured 0.9 vs 2.6 us per effect row). It needs each column's exact type in column
# order; a type that does not match its column makes PostgreSQL reject the COPY ("incorrect
# binary data format"), so a mismatch fails the batch loudly instead of storing wrong values.
_COPY_TYPE_NAMES = {
    "SMALLINT": "int2",
    "INTEGER": "int4",
    "BIGINT": "int8",
    "DATE": "date",
    "UUID": "uuid",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


def copy_type(column: Column[Any]) -> str:
    """The PostgreSQL type name psycopg's binary COPY needs for a column (varchar, varchar[], ...)."""
    compiled = column.type.compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
    suffix = "[]" if compiled.endswith("[]") else ""
    base = compiled.removesuffix("[]")
    return (_COPY_TYPE_NAMES.get(base) or base.split("(")[0].lower()) + suffix


# What the aggregator writes of a new event: every column but the generated id and the
# applied_at it sets on insert.
EVENT_COPY_COLUMNS = tuple(c.name for c in _EVENTS.columns if c.name not in ("id", "applied_at"))
STAGE_EVENT_COPY_TYPES = tuple(copy_type(_EVENTS.c[name]) for name in EVENT_COPY_COLUMNS)
EFFECT_COPY_COLUMNS = tuple(c.name for c in _EFFECTS.columns)
EFFECT_COPY_TYPES = tuple(copy_type(_EFFECTS.c[name]) for name in EFFECT_COPY_COLUMNS)
_EVENT_COLUMNS = ", ".join(EVENT_COPY_COLUMNS)
# What the planner reads of a known event (LedgerRow), selected and read by name.
_KNOWN_COLUMNS = ", ".join(f"l.{c.name}" for c in _EVENTS.columns if c.name != "applied_at")
_EFFECT_COLUMNS = ", ".join(EFFECT_COPY_COLUMNS)
# The columns of the event row an effect counts (`o`), read back into an Effect.
_COUNTED_COLUMNS = ("bank_id", "event_id", "categories", "value_date", "currency", "direction")

# unnest() of two parallel arrays joins a whole batch of keys in one round trip, using the
# (bank_id, event_id) unique index and the (bank_id, reverses) index. Built from the table's
# own column names only.
_KNOWN_SQL = text(f"""
    SELECT {_KNOWN_COLUMNS}
    FROM ledger_events l
    JOIN unnest(CAST(:banks AS varchar[]), CAST(:events AS varchar[])) AS k(bank_id, event_id)
      ON l.bank_id = k.bank_id AND l.event_id = k.event_id
    UNION
    SELECT {_KNOWN_COLUMNS}
    FROM ledger_events l
    JOIN unnest(CAST(:rbanks AS varchar[]), CAST(:revents AS varchar[])) AS k(bank_id, event_id)
      ON l.bank_id = k.bank_id AND l.reverses = k.event_id
    WHERE l.reverses IS NOT NULL AND l.status IN ('{LedgerStatus.REVERSAL_PENDING}', '{LedgerStatus.REVERSAL_APPLIED}')
""")  # noqa: S608
# Records of the batch that were dead-lettered before (ix_dlq_source): a replay or a
# re-delivery must not decide them again (a rejected reversal could otherwise apply later).
_DECIDED_SQL = text("""
    SELECT DISTINCT d.kafka_partition, d.kafka_offset
    FROM dlq_events d
    JOIN unnest(CAST(:ps AS integer[]), CAST(:lows AS bigint[]), CAST(:highs AS bigint[])) AS r(p, lo, hi)
      ON d.kafka_partition = r.p AND d.kafka_offset BETWEEN r.lo AND r.hi
""")
# Rows reach PostgreSQL through COPY (psycopg formats COPY rows in C; binding Python lists
# as array parameters was the largest item in the aggregator's profile). Events go through a
# per-session staging table of the same column types so that ON CONFLICT still decides what
# is new; effects have no conflicts and are copied straight into the journal.
_STAGE_EVENTS_DDL = f"""
    CREATE TEMP TABLE IF NOT EXISTS stage_ledger_events ON COMMIT DELETE ROWS
    AS SELECT {_EVENT_COLUMNS} FROM ledger_events WITH NO DATA
"""  # noqa: S608
_COPY_STAGE_EVENTS = f"COPY stage_ledger_events ({_EVENT_COLUMNS}) FROM STDIN (FORMAT BINARY)"
_INSERT_STAGED_EVENTS = f"""
    INSERT INTO ledger_events ({_EVENT_COLUMNS}, applied_at)
    SELECT {_EVENT_COLUMNS}, %s FROM stage_ledger_events
    ON CONFLICT (bank_id, event_id) DO NOTHING
    RETURNING bank_id, event_id, id
"""  # noqa: S608
_COPY_EFFECTS = f"COPY ledger_effects ({_EFFECT_COLUMNS}) FROM STDIN (FORMAT BINARY)"
_LOCK_SQL = text("""
    SELECT partition, next_offset FROM consumer_offsets
    WHERE group_id = :g AND topic = :t AND partition = ANY(:ps)
    ORDER BY partition FOR UPDATE
""")
# The commit time of a batch (ledger_effects.processed_at, ledger_events.applied_at and
# consumer_offsets.updated_at): the database server's clock, read after the partitions' rows
# are locked, never earlier than the last commit time of any of those partitions. Under the
# lock, commits of one partition are serial, so processed_at is monotonic per partition even
# if the server clock steps back; one clock (PostgreSQL's) serves every aggregator instance.
# A reader that takes the same rows FOR SHARE (settlement_api.kit.known_at.knowledge_barrier)
# gets a time after which no batch can commit an earlier processed_at.
_COMMIT_TIME_SQL = text("""
    SELECT greatest(clock_timestamp(), max(updated_at)) FROM consumer_offsets
    WHERE group_id = :g AND topic = :t AND partition = ANY(:ps)
""")
_CHUNK_BOUND_SQL = text("""
    SELECT count(*), max(kafka_offset) FROM (
      SELECT kafka_offset FROM ledger_effects
      WHERE kafka_partition = :p AND kafka_offset > :a AND kafka_offset <= :u
      ORDER BY kafka_offset LIMIT :n) s
""")
# An effect row references the event it counts (o) and, for a subtraction, the reversal that
# caused it (r); both joins go through ledger_events' primary key. Within one offset the
# order is the aggregator's (the addition before the subtraction an arriving original
# triggers); sums do not depend on it, but a replay reads the same sequence every time.
_EFFECTS_SQL = text(f"""
    SELECT e.kafka_partition, e.kafka_offset, e.processed_at, r.event_id AS reversal_event_id,
      {", ".join("o." + c for c in _COUNTED_COLUMNS)}, o.counterparty_country, o.amount
    FROM ledger_effects e
    JOIN ledger_events o ON o.id = e.event_row_id
    LEFT JOIN ledger_events r ON r.id = e.reversal_row_id
    WHERE e.kafka_partition = :p AND e.kafka_offset > :a AND e.kafka_offset <= :u
    ORDER BY e.kafka_offset, e.reversal_row_id NULLS FIRST, e.event_row_id
""")  # noqa: S608


@dataclass(frozen=True, slots=True)
class PartitionCommit:
    partition: int
    prev_next: int  # consumer_offsets.next_offset before the batch
    new_next: int

    @property
    def prev_fence(self) -> int:
        return self.prev_next - 1

    @property
    def new_fence(self) -> int:
        return self.new_next - 1


@dataclass(frozen=True, slots=True)
class CommitResult:
    plan: BatchPlan
    committed: tuple[PartitionCommit, ...]
    # partition -> next_offset found in PostgreSQL when it differed from our belief
    # (None: the row vanished). Those partitions' records were not written.
    fenced: Mapping[int, int | None]


def effect_from_row(row: Any) -> Effect:
    """An Effect from a row of _EFFECTS_SQL (an effect joined to the rows it references):
    the original's attributes and exact minor-unit amount, negated and carrying the
    reversal's event id when a reversal caused it."""
    amount_minor = to_minor(row.amount, row.currency)
    reversal = row.reversal_event_id
    return Effect(
        partition=row.kafka_partition,
        offset=row.kafka_offset,
        bank_id=row.bank_id,
        event_id=row.event_id if reversal is None else reversal,
        categories=tuple(row.categories),
        value_date=row.value_date,
        currency=row.currency,
        direction=row.direction,
        country=row.counterparty_country,
        amount_minor=amount_minor if reversal is None else -amount_minor,
        processed_at=row.processed_at,
    )


def _counts(effect: Effect, original: LedgerRow) -> bool:
    """Whether `original` reproduces `effect`'s attributes (the amount is checked apart)."""
    return (
        effect.bank_id == original.bank_id
        and effect.categories == original.categories
        and effect.value_date == original.value_date
        and effect.currency == original.currency
        and effect.direction == original.direction
        and effect.country == original.country
    )


def effect_reference(effect: Effect, rows: Mapping[Key, LedgerRow], ids: Mapping[Key, int]) -> tuple[int, int | None]:
    """(event_row_id, reversal_row_id) of a planned effect: the ledger_events ids it is
    stored as. `rows` holds every row the batch read or inserted, `ids` their ids.

    The effect's own event is `rows[(bank_id, event_id)]`: an original adds itself; a
    reversal subtracts the original it reverses; a correction does both (adds itself,
    subtracts what it corrects, the reversal_row_id then being the correction's). Raises
    JournalMismatch if the referenced rows would not reproduce the effect exactly when read
    back (effect_from_row), so the journal can never silently differ from what the aggregator applied to Redis.
    """
    cause = rows[(effect.bank_id, effect.event_id)]
    # A correction causes two effects under its event id: its own figure (an addition) and
    # the subtraction of what it corrects. Amounts are positive, so the sign tells them apart.
    subtracts = cause.corrects is None or effect.amount_minor < 0
    replaced = (cause.corrects or cause.reverses) if subtracts else None
    if replaced is None:
        original, reversal_id = cause, None
    else:
        original = rows[(cause.bank_id, replaced)]
        reversal_id = ids[cause.key]
    amount = to_minor(original.amount, original.currency)
    expected = amount if reversal_id is None else -amount
    if effect.amount_minor != expected or not _counts(effect, original):
        raise JournalMismatch(
            f"effect of {effect.bank_id}/{effect.event_id} at {effect.partition}/{effect.offset} "
            f"is not reproduced by ledger row {original.bank_id}/{original.event_id}"
        )
    return ids[original.key], reversal_id


# Column name -> attribute of LedgerRow / Effect where they differ.
_ATTRIBUTE_OF = {"counterparty_country": "country", "kafka_partition": "partition", "kafka_offset": "offset"}
# attrgetter of several names builds the COPY row tuple in C (this runs for every event).
_EVENT_ROW = attrgetter(*(_ATTRIBUTE_OF.get(n, n) for n in EVENT_COPY_COLUMNS))
_EVENT_CATEGORIES = EVENT_COPY_COLUMNS.index("categories")
_EVENT_STATUS = EVENT_COPY_COLUMNS.index("status")
_EVENT_BODY_HASH = EVENT_COPY_COLUMNS.index("body_hash")
# Where an effect's own fields and its two references go in its COPY row.
_EFFECT_ROW = attrgetter(*(_ATTRIBUTE_OF.get(n, n) for n in ("kafka_offset", "processed_at", "kafka_partition")))
_EFFECT_SLOTS = tuple(EFFECT_COPY_COLUMNS.index(n) for n in ("kafka_offset", "processed_at", "kafka_partition"))
_EFFECT_EVENT_ROW = EFFECT_COPY_COLUMNS.index("event_row_id")
_EFFECT_REVERSAL_ROW = EFFECT_COPY_COLUMNS.index("reversal_row_id")


def event_copy_row(r: LedgerRow) -> list[Any]:
    """The ledger_events COPY row of a planned row, in EVENT_COPY_COLUMNS order."""
    values = list(_EVENT_ROW(r))
    values[_EVENT_CATEGORIES] = list(r.categories)  # psycopg dumps lists as arrays
    # str(status): a StrEnum's value as plain str, without enum's slow `.value` descriptor.
    values[_EVENT_STATUS] = str(r.status)
    values[_EVENT_BODY_HASH] = bytes.fromhex(r.body_hash)  # bytea: the digest's 32 bytes
    return values


def effect_copy_row(e: Effect, event_row_id: int, reversal_row_id: int | None) -> list[Any]:
    """The ledger_effects COPY row of an effect and its references, in EFFECT_COPY_COLUMNS order."""
    values: list[Any] = [None] * len(EFFECT_COPY_COLUMNS)
    for slot, value in zip(_EFFECT_SLOTS, _EFFECT_ROW(e), strict=True):
        values[slot] = value
    values[_EFFECT_EVENT_ROW] = event_row_id
    values[_EFFECT_REVERSAL_ROW] = reversal_row_id
    return values


def _row_from(r: Any) -> LedgerRow:
    """A LedgerRow from a ledger_events row read by column name."""
    return LedgerRow(
        row_id=r.id,
        bank_id=r.bank_id,
        event_id=r.event_id,
        body_hash=bytes(r.body_hash).hex(),  # read through text(): the raw bytea
        categories=tuple(r.categories),
        amount=r.amount,
        currency=r.currency,
        value_date=r.value_date,
        direction=r.direction,
        country=r.counterparty_country,
        reverses=r.reverses,
        uetr=r.uetr,
        status=LedgerStatus(r.status),
        partition=r.kafka_partition,
        offset=r.kafka_offset,
        ingested_at=r.ingested_at,
        corrects=r.corrects,
        reason_code=r.reason_code,
        reason_text=r.reason_text,
    )


def stream_effects(
    conn: Connection, partition: int, after: int, upto: int, yield_per: int = 20_000
) -> Iterator[Effect]:
    """Effects of one partition with after < offset <= upto, in journal order."""
    result = conn.execution_options(yield_per=yield_per).execute(_EFFECTS_SQL, {"p": partition, "a": after, "u": upto})
    for row in result:
        yield effect_from_row(row)


class LedgerRepository:
    def __init__(self, engine: Engine, group: str, topic: str) -> None:
        self._engine = engine
        self._group = group
        self._topic = topic

    def claim_positions(self, starts: Mapping[int, int]) -> dict[int, int]:
        """Create missing offset rows at `starts` (log start offsets); return next_offset of
        each partition as stored (an existing row always wins)."""
        with self._engine.begin() as conn:
            if starts:
                conn.execute(
                    pg_insert(_OFFSETS).on_conflict_do_nothing(),
                    [
                        {"group_id": self._group, "topic": self._topic, "partition": p, "next_offset": o}
                        for p, o in starts.items()
                    ],
                )
            return self._positions(conn, list(starts))

    def positions(self, partitions: Sequence[int]) -> dict[int, int]:
        with self._engine.connect() as conn:
            return self._positions(conn, partitions)

    def _positions(self, conn: Connection, partitions: Sequence[int]) -> dict[int, int]:
        rows = conn.execute(
            text(
                "SELECT partition, next_offset FROM consumer_offsets "
                "WHERE group_id = :g AND topic = :t AND partition = ANY(:ps)"
            ),
            {"g": self._group, "t": self._topic, "ps": list(partitions)},
        ).all()
        return {int(p): int(o) for p, o in rows}

    def commit_batch(
        self,
        valid: Sequence[Valid],
        invalid: Sequence[InvalidRecord],
        beliefs: Mapping[int, int],
        last_offsets: Mapping[int, int],
        before_commit: Callable[[BatchPlan], None],
    ) -> CommitResult:
        """Plan and write one batch in one transaction.

        `beliefs[p]` is the next_offset this instance expects to find for partition p,
        `last_offsets[p]` the batch's last offset of p. `before_commit` runs inside the
        transaction after the writes (the DLQ flush), so a failure there rolls back.
        The batch's commit time is the server's (_COMMIT_TIME_SQL), read under the lock.
        """
        partitions = sorted(last_offsets)
        with self._engine.begin() as conn:
            found = {
                int(p): int(o)
                for p, o in conn.execute(_LOCK_SQL, {"g": self._group, "t": self._topic, "ps": partitions}).all()
            }
            fenced = {p: found.get(p) for p in partitions if found.get(p) != beliefs[p]}
            now = conn.execute(_COMMIT_TIME_SQL, {"g": self._group, "t": self._topic, "ps": partitions}).scalar_one()
            valid = [v for v in valid if v.partition not in fenced]
            invalid = [i for i in invalid if i.partition not in fenced]
            decided = self._dead_lettered(conn, valid, invalid)
            known = self._known(conn, valid)
            plan = plan_batch(valid, invalid, known, now, decided)
            self._write(conn, plan, known, now)
            committed = tuple(
                PartitionCommit(p, beliefs[p], last_offsets[p] + 1) for p in partitions if p not in fenced
            )
            if committed:
                conn.execute(
                    update(_OFFSETS)
                    .where(
                        _OFFSETS.c.group_id == self._group,
                        _OFFSETS.c.topic == self._topic,
                        _OFFSETS.c.partition == bindparam("p"),
                    )
                    .values(next_offset=bindparam("n"), updated_at=now),
                    [{"p": c.partition, "n": c.new_next} for c in committed],
                )
            before_commit(plan)
        if fenced:
            logger.warning(
                "partitions fenced: another writer moved their offsets",
                extra={"fenced": fenced, "believed": {p: beliefs[p] for p in fenced}},
            )
        return CommitResult(plan=plan, committed=committed, fenced=fenced)

    def _dead_lettered(
        self, conn: Connection, valid: Sequence[Valid], invalid: Sequence[InvalidRecord]
    ) -> set[tuple[int, int]]:
        spans: dict[int, tuple[int, int]] = {}
        sources = [(v.partition, v.offset) for v in valid] + [(i.partition, i.offset) for i in invalid]
        for partition, offset in sources:
            low, high = spans.get(partition, (offset, offset))
            spans[partition] = (min(low, offset), max(high, offset))
        if not spans:
            return set()
        ps = sorted(spans)
        rows = conn.execute(
            _DECIDED_SQL, {"ps": ps, "lows": [spans[p][0] for p in ps], "highs": [spans[p][1] for p in ps]}
        ).all()
        return {(int(p), int(o)) for p, o in rows}

    def _known(self, conn: Connection, valid: Sequence[Valid]) -> dict[Key, LedgerRow]:
        if not valid:
            return {}
        by_key, by_reverses = referenced_keys(valid)
        rows = conn.execute(
            _KNOWN_SQL,
            {
                "banks": [k[0] for k in by_key],
                "events": [k[1] for k in by_key],
                "rbanks": [k[0] for k in by_reverses],
                "revents": [k[1] for k in by_reverses],
            },
        ).all()
        known: dict[Key, LedgerRow] = {}
        for r in rows:
            row = _row_from(r)
            known[row.key] = row
        return known

    def _write(self, conn: Connection, plan: BatchPlan, known: Mapping[Key, LedgerRow], now: datetime) -> None:
        ids: dict[Key, int] = {}
        if plan.inserts:
            rows = plan.inserts
            cursor = _driver_cursor(conn)
            cursor.execute(_STAGE_EVENTS_DDL)
            with cursor.copy(_COPY_STAGE_EVENTS) as copy:
                copy.set_types(STAGE_EVENT_COPY_TYPES)
                write_row = copy.write_row
                for r in rows:
                    write_row(event_copy_row(r))
            inserted = cursor.execute(_INSERT_STAGED_EVENTS, (now,)).fetchall()
            # The planner believed every one of these keys new (it read them under the
            # partition lock); a skipped row means another writer raced us: retry the batch.
            if len(inserted) != len(rows):
                raise ConcurrentLedgerWrite(f"{len(rows) - len(inserted)} keys were inserted concurrently")
            # RETURNING comes in no promised order: the new ids by key, for the effects.
            ids = {(bank_id, event_id): row_id for bank_id, event_id, row_id in inserted}
        if plan.status_updates:
            conn.execute(
                update(_EVENTS).where(_EVENTS.c.id == bindparam("rid")).values(status=bindparam("st"), applied_at=now),
                [{"rid": rid, "st": st.value} for rid, st in plan.status_updates],
            )
        if plan.effects:
            by_key: dict[Key, LedgerRow] = dict(known)
            for r in plan.inserts:
                by_key[r.key] = r
            for key, r in known.items():
                assert r.row_id is not None  # read from the ledger
                ids[key] = r.row_id
            with _driver_cursor(conn).copy(_COPY_EFFECTS) as copy:
                copy.set_types(EFFECT_COPY_TYPES)
                write_row = copy.write_row
                for e in plan.effects:
                    write_row(effect_copy_row(e, *effect_reference(e, by_key, ids)))
        if plan.dlq:
            conn.execute(
                insert(_DLQ),
                [
                    {
                        "bank_id": d.bank_id,
                        "event_id": d.event_id,
                        "reason": str(d.reason),
                        "detail": d.detail,
                        "kafka_partition": d.partition,
                        "kafka_offset": d.offset,
                        "raw": d.raw,
                    }
                    for d in plan.dlq
                ],
            )

    def effects_chunk(self, partition: int, after: int, upto: int, limit: int) -> tuple[list[Effect], int]:
        """The next replay chunk: effects in (after, bound] and `bound`, where bound <= upto
        never splits one offset's effects across chunks (a fence value covers whole offsets)."""
        with self._engine.connect() as conn:
            count, last = conn.execute(_CHUNK_BOUND_SQL, {"p": partition, "a": after, "u": upto, "n": limit}).one()
            bound = upto if count < limit or last is None else int(last)
            return list(stream_effects(conn, partition, after, bound)), bound


def _driver_cursor(conn: Connection) -> psycopg.Cursor[Any]:
    """A psycopg cursor on the same connection, hence inside the batch's transaction."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver.cursor()
