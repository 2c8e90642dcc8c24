"""Knowledge-time reads: the figures exactly as they were known at a moment, from the ledger.

Two time axes (docs/statistics.md): the value date an event settles on (`as_of`, `from`,
`to`) and the knowledge time at which the ledger recorded it (`known_at`). Every effect in
`ledger_effects` carries `processed_at`, its batch's commit time: the PostgreSQL server's
clock read under the partition's lock, never earlier than that partition's previous commit
(settlement_aggregate.ledger), so it is monotonic per partition. A reversal's subtraction
and a late event's addition are effects like any other, placed at the time they were
committed.

The figures known at T are those of every effect with processed_at <= T, counted with the
rule set in force at T: the latest `rule_sets` row recorded at or before T (written by
`settlementctl init` and by `settlementctl rebuild` after a rule change: the moment the
projection started counting the whole history under the new rules). Before the first
recorded set, the earliest one applies; with none recorded, the catalogue's rules. The FX
table is the present one, as for present reads (rates are reference data by value date).

This module is the one place that reads figures by knowledge time. It builds a
`LedgerSnapshot`, a FigureStore (kit/bucket_store.py) holding the same bucket fields the
aggregator would hold had it applied exactly those effects with those rules
(settlement_core.buckets.increments_for), so totals, progress, series and releases run
their present code on it: the same FX, rule and disclosure semantics, exact integers.
PostgreSQL sums the effects per distinct (bank, declared categories, currency, value date,
direction, country, sign) first, so Python sees one row per such group, not per event.

Stability: an effect becomes visible when its batch commits, shortly after its
processed_at was read. `knowledge_barrier` reads the server clock B, then takes every
consumer_offsets row FOR SHARE (the rows each batch locks FOR UPDATE before reading its
commit time) and waits for them. A batch whose commit time is <= B locked its partition's
row before reading that time, so before B: the row was committed then, the barrier's lock
statement (which starts after B) sees it and waits for that batch to commit. Every batch
that locks later reads a later time. A read at T <= B is therefore repeatable; a later T is
refused (422). B is read before the lock, not after: a consumer_offsets row created while
the lock statement runs is not in its snapshot, and a batch on it could otherwise read a
time between the statement's start and a clock read after it and commit afterwards.

Checkpoints (kit/checkpoints.py writes them, at a barrier time): the groups of every effect
with processed_at <= the checkpoint's time, stored summed. A read at T sums the newest
checkpoint at or before T (for the home country of T's rule set: countries are grouped as
home, unknown or foreign) and the tail, the effects with checkpoint time < processed_at <= T,
found through a BRIN index on processed_at. Sums of exact numerics commute, so the result is
the same groups the whole-ledger scan gives (tests/api/kit/test_checkpoints.py compares them).
"""

from __future__ import annotations

import asyncio
import re
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import Connection, Engine, Row, text

from settlement_api.kit.bucket_store import Seen
from settlement_api.kit.disclosure import ContributorReader
from settlement_api.resources import Figures
from settlement_core.buckets import Effect, Increments, increments_for, seen_of
from settlement_core.business_days import business_date
from settlement_core.identifiers import UNKNOWN_COUNTRY
from settlement_core.money import to_minor
from settlement_core.problems import FieldError, Problem
from settlement_core.rules import CountingRules, rules_from_document

# RFC 3339 date-time (section 5.6) with an explicit offset: a knowledge time is an instant,
# so a local time without offset is refused rather than guessed. [0-9], never \d (Unicode).
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)

# Every batch locks its partitions' rows FOR UPDATE before reading its commit time.
_BARRIER_LOCK = text("SELECT 1 FROM consumer_offsets FOR SHARE")
_CLOCK = text("SELECT clock_timestamp()")
# The effects known at :upto (and after :after, for the changes between two knowledge
# times), summed per distinct attributes of the event they count and per sign. A count of
# the non-zero ones: the aggregator counts a zero effect as nothing (buckets.increments_for).
# The counterparty country only matters to the rules as home, unknown or foreign (rules.py),
# so it is grouped as that class (foreign ones as one representative code): on a synthetic
# ledger of 10^6 events with three countries that cut the groups Python sums by a third;
# with the tens of countries of real traffic, by more. The per-country and per-direction
# fields this makes wrong (k|, r|) are dropped from the snapshot (increments_of).
_GROUP_SELECT = """
    SELECT o.bank_id, o.categories, o.currency, o.value_date, o.direction,
      CASE WHEN o.counterparty_country IN (:home, :unknown) THEN o.counterparty_country ELSE :foreign END AS country,
      e.reversal_row_id IS NULL AS added, sum(o.amount) AS amount,
      count(*) FILTER (WHERE o.amount <> 0) AS events, min(e.processed_at) AS first_at
    FROM ledger_effects e
    JOIN ledger_events o ON o.id = e.event_row_id
"""
_GROUP_BY = " GROUP BY 1, 2, 3, 4, 5, 6, 7"
_GROUPS = text(
    _GROUP_SELECT
    + " WHERE e.processed_at <= :upto AND (CAST(:after AS timestamptz) IS NULL OR e.processed_at > :after)"
    + _GROUP_BY
)
# The effects committed after a time, up to another: plain comparisons, so that the planner
# uses the BRIN index (ix_effects_processed_at) on them.
_TAIL = text(_GROUP_SELECT + " WHERE e.processed_at > :after AND e.processed_at <= :upto" + _GROUP_BY)
# The groups of a checkpoint plus its tail (module doc), summed again: a group in both adds
# its amounts and counts. The tail's bounds are plain comparisons so that the planner uses
# the BRIN index (ix_effects_processed_at) on them. kit/checkpoints.py writes a new
# checkpoint with this same statement (the previous checkpoint plus its tail).
CHECKPOINT_COLUMNS = "bank_id, categories, currency, value_date, direction, country, added, amount, events, first_at"
MERGED_GROUPS = f"""
    SELECT bank_id, categories, currency, value_date, direction, country, added,
      sum(amount) AS amount, sum(events) AS events, min(first_at) AS first_at
    FROM (
      SELECT {CHECKPOINT_COLUMNS} FROM knowledge_checkpoint_groups WHERE checkpoint_id = :checkpoint
      UNION ALL
      ({_GROUP_SELECT} WHERE e.processed_at > :after AND e.processed_at <= :upto {_GROUP_BY})
    ) g
    {_GROUP_BY}
"""  # noqa: S608
# The newest checkpoint at or before a knowledge time whose countries are grouped for the
# given home country (uq_knowledge_checkpoints_home_at serves it).
_CHECKPOINT_AT = text("""
    SELECT id, at FROM knowledge_checkpoints WHERE home_country = :home AND at <= :t
    ORDER BY at DESC LIMIT 1
""")
# Enough memory to hash-aggregate in one pass: with the default work_mem (4 MB) PostgreSQL
# sorted the joined rows on disk (external merge, 80 MB for 10^6 effects: 9.4 s of a 9.4 s
# plan); JIT compilation cost 125 ms and gains nothing on this plan. Both LOCAL: this
# transaction only.
_TUNE = (text("SET LOCAL work_mem = '128MB'"), text("SET LOCAL jit = off"))
_RULES_AT = text("""
    (SELECT id, document, 0 AS pick FROM rule_sets WHERE recorded_at <= :t ORDER BY recorded_at DESC, id DESC LIMIT 1)
    UNION ALL
    (SELECT id, document, 1 AS pick FROM rule_sets ORDER BY recorded_at, id LIMIT 1)
    ORDER BY pick LIMIT 1
""")


def parse_known_at(value: str | None, name: str = "known_at") -> datetime | None:
    """An RFC 3339 timestamp with offset, as an aware UTC datetime; 422 with a pointer otherwise."""
    if value is None:
        return None
    if _RFC3339.fullmatch(value):
        try:
            return datetime.fromisoformat(value.replace(" ", "T").replace("t", "T").replace("z", "Z")).astimezone(UTC)
        except ValueError:
            pass
    raise Problem(
        422,
        "Invalid query parameters",
        f"#/query/{name}: {value[:64]!r} is not an RFC 3339 timestamp with offset, e.g. 2021-01-15T08:00:00Z",
        "invalid-query",
        [FieldError(f"#/query/{name}", "expected an RFC 3339 timestamp with offset, e.g. 2021-01-15T08:00:00Z")],
    )


def knowledge_barrier(engine: Engine) -> datetime:
    """A server time up to which every knowledge-time read is repeatable: the clock read
    before the lock, which then waits for every batch that read an earlier time (module doc)."""
    with engine.begin() as conn:
        now: datetime = conn.execute(_CLOCK).scalar_one()
        conn.execute(_BARRIER_LOCK)
    return now


def refuse_future(known_at: datetime, barrier: datetime, name: str = "known_at") -> None:
    if known_at > barrier:
        message = f"{known_at.isoformat()} is later than the server's time {barrier.isoformat()}"
        raise Problem(
            422,
            "Invalid query parameters",
            f"#/query/{name}: {message}; nothing is known yet at a future time",
            "invalid-query",
            [FieldError(f"#/query/{name}", message)],
        )


@dataclass(frozen=True, slots=True)
class EffectGroup:
    """The effects of one sign on one kind of event, summed: exact minor units, signed
    (a reversal's subtraction negative), and the number of events they stand for."""

    bank_id: str
    categories: tuple[str, ...]
    currency: str
    value_date: date
    direction: str
    country: str  # the home country, UNKNOWN_COUNTRY or a representative foreign code
    added: bool  # False: the subtractions of reversals
    amount_minor: int  # signed: negative for subtractions
    events: int  # how many events (non-zero amounts) the group sums
    first_at: datetime  # the earliest processed_at among them


def tune(conn: Connection) -> None:
    """Settings of this transaction for the grouped read (_TUNE)."""
    for statement in _TUNE:
        conn.execute(statement)


def effect_groups(
    conn: Connection, upto: datetime, home_country: str, after: datetime | None = None
) -> list[EffectGroup]:
    """The ledger's effects with after < processed_at <= upto, per group (module doc);
    `home_country` is the rule set's (countries are grouped as home, unknown or foreign)."""
    params = {"upto": upto, "after": after, **country_classes(home_country)}
    return [_group(r) for r in conn.execute(_GROUPS, params)]


def country_classes(home_country: str) -> dict[str, str]:
    """The parameters of the country grouping (:home, :unknown, :foreign) for a home country."""
    foreign = _FOREIGN if home_country != _FOREIGN else _OTHER_FOREIGN
    return {"home": home_country, "unknown": UNKNOWN_COUNTRY, "foreign": foreign}


def _group(r: Row[Any]) -> EffectGroup:
    minor = to_minor(r.amount, r.currency)
    sign = 1 if r.added else -1
    return EffectGroup(
        r.bank_id,
        tuple(r.categories),
        r.currency,
        r.value_date,
        r.direction,
        r.country,
        bool(r.added),
        sign * minor,
        int(r.events),
        r.first_at,
    )


def tail_groups(conn: Connection, after: datetime, upto: datetime, home_country: str) -> list[EffectGroup]:
    """The groups of the effects with after < processed_at <= upto (the BRIN index finds them)."""
    params = {"after": after, "upto": upto, **country_classes(home_country)}
    return [_group(r) for r in conn.execute(_TAIL, params)]


@dataclass(frozen=True, slots=True)
class CheckpointRef:
    """A stored checkpoint (kit/checkpoints.py): its id and knowledge time."""

    id: int
    at: datetime


def checkpoint_at(conn: Connection, upto: datetime, home_country: str) -> CheckpointRef | None:
    """The newest checkpoint at or before `upto` grouped for `home_country`, if any."""
    row = conn.execute(_CHECKPOINT_AT, {"home": home_country, "t": upto}).first()
    return None if row is None else CheckpointRef(int(row.id), row.at)


def known_groups(conn: Connection, upto: datetime, home_country: str) -> tuple[list[EffectGroup], CheckpointRef | None]:
    """The same groups as effect_groups(conn, upto, home_country), from the newest checkpoint
    at or before `upto` and its tail when there is one (module doc), and that checkpoint."""
    checkpoint = checkpoint_at(conn, upto, home_country)
    if checkpoint is None:
        return effect_groups(conn, upto, home_country), None
    params = {"checkpoint": checkpoint.id, "after": checkpoint.at, "upto": upto, **country_classes(home_country)}
    return [_group(r) for r in conn.execute(text(MERGED_GROUPS), params)], checkpoint


@dataclass(frozen=True, slots=True)
class RulesInForce:
    rules: CountingRules
    rule_set_id: int | None  # None: no set recorded, the catalogue's rules


def rules_at(conn: Connection, at: datetime, fallback: CountingRules) -> RulesInForce:
    row = conn.execute(_RULES_AT, {"t": at}).first()
    if row is None:
        return RulesInForce(fallback, None)
    return RulesInForce(rules_from_document(row.document), int(row.id))


# A group has no single processing time; its effects are given this one and the fields it
# names (h|) are dropped, as are the per-country (k|) and per-direction (r|) fields a group's
# representative country makes wrong. No knowledge-time read uses any of them.
_DROPPED = ("h|", "k|", "r|")
# User-assigned ISO 3166 codes: never a real counterparty's country.
_FOREIGN, _OTHER_FOREIGN = "XX", "XY"
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)


def increments_of(groups: Iterable[EffectGroup], rules: CountingRules) -> Increments:
    """The bucket fields of `groups` counted with `rules` (the aggregator's own function):
    the c|, b| and n| fields totals, progress, series and disclosure read (_DROPPED)."""
    effects = (
        Effect(
            partition=0,
            offset=0,
            bank_id=g.bank_id,
            event_id="",
            categories=g.categories,
            value_date=g.value_date,
            currency=g.currency,
            direction=g.direction,
            country=g.country,
            amount_minor=g.amount_minor,
            processed_at=_NO_TIME,
            events=g.events,
        )
        for g in groups
    )
    inc = increments_for(effects, rules)
    return Increments({k: v for k, v in inc.fields.items() if not k.startswith(_DROPPED)}, inc.seen)


class LedgerSnapshot:
    """A FigureStore over bucket fields computed from the ledger (no I/O once built): those of
    `increments`, plus those of `over` when given (a base and its tail: KnownBase). Fields
    are exact integers, so a field's value is the sum of both, and one that sums to zero is
    absent, as increments_for leaves it out of one sum over both."""

    def __init__(self, increments: Increments, over: Increments | None = None) -> None:
        self._fields = increments.fields
        self._over = {} if over is None else over.fields
        pairs: set[tuple[str, str]] = set()
        banks: set[str] = set()
        for member in increments.seen | (frozenset() if over is None else over.seen):
            head, _, tail = member.partition("|")
            if head == "bank":
                banks.add(tail)
            elif tail:
                pairs.add((head, tail))
        self._seen = Seen(frozenset(pairs), frozenset(banks), {b: frozenset({0}) for b in banks})

    async def seen(self) -> Seen:
        return self._seen

    async def sum_fields(self, fields: Sequence[str]) -> dict[str, int]:
        if not self._over:
            return {name: self._fields[name] for name in fields if name in self._fields}
        sums = {name: self._fields.get(name, 0) + self._over.get(name, 0) for name in fields}
        return {name: value for name, value in sums.items() if value}

    async def sum_bank_fields(self, seen: Seen, fields: Mapping[str, Sequence[str]]) -> dict[str, int]:
        return await self.sum_fields([name for names in fields.values() for name in names])


@dataclass(frozen=True, slots=True)
class KnownAt:
    """What was known at one knowledge time: the snapshot and the rule set it counts with."""

    at: datetime
    snapshot: LedgerSnapshot
    rules: RulesInForce
    groups: tuple[EffectGroup, ...]


@dataclass(frozen=True, slots=True)
class Base:
    """The bucket fields of every effect with processed_at <= `at`, counted with one rule set
    (its id and home country), and when each `seen` member was first known: what a
    knowledge-time read with the same rule set starts from, later or earlier than `at`.
    Never mutated: KnownBase.advance builds a new one."""

    at: datetime
    rule_set_id: int | None
    home_country: str
    increments: Increments
    first_seen: Mapping[str, datetime]


def first_seen(groups: Iterable[EffectGroup], rules: CountingRules) -> dict[str, datetime]:
    """Each seen member of `groups` counted with `rules` (buckets.seen_of) and the earliest
    processed_at of the groups that add it (pure)."""
    firsts: dict[tuple[str, tuple[str, ...], str, str, str], datetime] = {}
    for g in groups:
        key = (g.bank_id, g.categories, g.currency, g.country, g.direction)
        known = firsts.get(key)
        if known is None or g.first_at < known:
            firsts[key] = g.first_at
    members: dict[str, datetime] = {}
    for (bank, categories, currency, country, direction), at in firsts.items():
        for member in seen_of(bank, categories, currency, country, direction, rules):
            known = members.get(member)
            if known is None or at < known:
                members[member] = at
    return members


def _earliest(a: Mapping[str, datetime], b: Mapping[str, datetime]) -> dict[str, datetime]:
    merged = dict(a)
    for member, at in b.items():
        known = merged.get(member)
        if known is None or at < known:
            merged[member] = at
    return merged


def _add(base: Increments, tail: Increments) -> Increments:
    fields = dict(base.fields)
    for name, value in tail.fields.items():
        total = fields.get(name, 0) + value
        if total:
            fields[name] = total
        else:
            fields.pop(name, None)
    return Increments(fields, base.seen | tail.seen)


class KnownBase:
    """This API process's in-memory base (module doc, Base): a known_at read at T with the
    base's rule set sums the base and the effects committed in (base time, T], or subtracts
    those committed in (T, base time] when T is earlier (its seen members: those first known
    by T), read through the BRIN index, instead of every group of the ledger. The bucket
    fields are additive (exact integers summed per field), so base and tail give the same
    store as the groups up to T counted at once (tests/api/kit/test_known_base.py,
    test_checkpoints.py). `advance` moves it to a new knowledge barrier: the first time (or
    after a rule change) from the newest checkpoint and its tail, then by adding the tail
    since its own time. Memory: one entry per bucket field and seen member, as the Redis
    projection holds (about 0.9 million fields at 10^6 synthetic events)."""

    def __init__(self) -> None:
        self._base: Base | None = None
        self._advancing = threading.Lock()

    @property
    def at(self) -> datetime | None:
        base = self._base
        return None if base is None else base.at

    def usable(self, rules: RulesInForce) -> Base | None:
        """The base, if a read counting with `rules` may start from it."""
        base = self._base
        if base is None or base.rule_set_id != rules.rule_set_id:
            return None
        return base if base.home_country == rules.rules.home_country else None

    def advance(self, engine: Engine, fallback: CountingRules) -> Base:
        """Move the base to a knowledge barrier's time (sync: run it in a worker thread)."""
        with self._advancing:
            upto = knowledge_barrier(engine)
            with ledger_snapshot(engine) as conn:
                rules = rules_at(conn, upto, fallback)
                home = rules.rules.home_country
                current = self.usable(rules)
                if current is None:
                    groups, _ = known_groups(conn, upto, home)
                else:
                    groups = tail_groups(conn, current.at, upto, home)
            if current is not None and not groups:
                # Nothing committed since: the same fields, known up to a later time (no copy
                # of the fields, about 0.2 s per million).
                self._base = replace(current, at=upto)
                return self._base
            counted = increments_of(groups, rules.rules)
            firsts = first_seen(groups, rules.rules)
            if current is None:
                self._base = Base(upto, rules.rule_set_id, home, counted, firsts)
            else:
                increments = _add(current.increments, counted)
                self._base = Base(upto, rules.rule_set_id, home, increments, _earliest(current.first_seen, firsts))
            return self._base


# The base of each engine (one per API process: its database); weak, so a disposed engine
# takes its base with it.
_BASES: weakref.WeakKeyDictionary[Engine, KnownBase] = weakref.WeakKeyDictionary()


def known_base(engine: Engine) -> KnownBase:
    """The in-memory base of `engine`'s ledger in this process (created empty)."""
    base = _BASES.get(engine)
    if base is None:
        base = _BASES.setdefault(engine, KnownBase())
    return base


def known_snapshot(engine: Engine, at: datetime, fallback: CountingRules) -> LedgerSnapshot:
    """The figures' store as known at `at`: this process's base and its tail when the base
    is usable (KnownBase), else every group up to `at` (snapshot_at). Sync: worker thread."""
    with ledger_snapshot(engine) as conn:
        rules = rules_at(conn, at, fallback)
        home = rules.rules.home_country
        base = known_base(engine).usable(rules)
        if base is None:
            groups, _ = known_groups(conn, at, home)
        elif base.at <= at:
            groups = tail_groups(conn, base.at, at, home)
        else:
            groups = tail_groups(conn, at, base.at, home)
    counted = increments_of(groups, rules.rules)
    return LedgerSnapshot(counted) if base is None else from_base(base, at, counted)


def from_base(base: Base, at: datetime, between: Increments) -> LedgerSnapshot:
    """The store as known at `at` from `base` and the increments of the effects committed
    between the base's time and `at` (pure): added when `at` is later; when earlier,
    subtracted, with the seen members first known by `at`."""
    if base.at <= at:
        return LedgerSnapshot(base.increments, over=between)
    seen = frozenset(member for member, first in base.first_seen.items() if first <= at)
    minus = Increments({name: -value for name, value in between.fields.items()}, frozenset())
    return LedgerSnapshot(Increments(base.increments.fields, seen), over=minus)


# At most this many ledger scans at once per API process; more wait for a slot (in their
# worker thread, never on the event loop). Each scan is a whole-ledger hash aggregate of up
# to 128 MB (_TUNE) that takes seconds at 10^6 effects (docs/statistics.md): two keep the
# database's two cores for everything else, whatever the number of readers.
LEDGER_SCANS = threading.BoundedSemaphore(2)


@contextmanager
def ledger_snapshot(engine: Engine) -> Iterator[Connection]:
    """One tuned REPEATABLE READ transaction for a ledger scan, in one of LEDGER_SCANS's slots
    (sync: worker threads only). Every knowledge-time read and checkpoint goes through it."""
    with LEDGER_SCANS, engine.connect() as raw:
        conn = raw.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            tune(conn)
            yield conn


def snapshot_at(engine: Engine, at: datetime, fallback: CountingRules) -> KnownAt:
    """The ledger as known at `at`, read in one REPEATABLE READ snapshot (sync: run it in a
    worker thread from async code)."""
    with ledger_snapshot(engine) as conn:
        rules = rules_at(conn, at, fallback)
        groups, _ = known_groups(conn, at, rules.rules.home_country)
    return KnownAt(at, LedgerSnapshot(increments_of(groups, rules.rules)), rules, tuple(groups))


def figures_known_at(figures: Figures, engine: Engine, at: datetime, name: str = "known_at") -> Figures:
    """`figures` as known at `at`: the ledger snapshot instead of the Redis projection, its
    own contributor counts (never the present's cache: disclosure is decided on what was
    known then) and the business date of `at` as today (sync: run it in a worker thread).
    A future `at` is a 422 pointing at the query parameter `name`."""
    refuse_future(at, knowledge_barrier(engine), name)
    snapshot = known_snapshot(engine, at, figures.catalogue.rules)
    return replace(
        figures,
        store=snapshot,
        contributors=ContributorReader(snapshot, ttl=0.0),
        today=business_date(at, figures.settings.business_timezone),
    )


KNOWN_AT_DESCRIPTION = (
    "RFC 3339 timestamp with offset: the figures exactly as known then, computed from the ledger "
    "(docs/statistics.md, two time axes); default now, from the Redis projection. A future time is 422."
)


# The query parameter of every knowledge-time read (totals, progress, series): documented as
# an OpenAPI date-time, the RFC 3339 form parse_known_at accepts.
KnownAtQ = Annotated[str | None, Query(description=KNOWN_AT_DESCRIPTION, json_schema_extra={"format": "date-time"})]


async def at_knowledge_time(figures: Figures, engine: Engine, known_at: str | None) -> Figures:
    """The route's figures: `figures` itself without `known_at`, else as known then."""
    at = parse_known_at(known_at)
    if at is None:
        return figures
    return await asyncio.to_thread(figures_known_at, figures, engine, at)
