"""The bucket increments the aggregator applies are group sums, and they are exact (issue 23,
step 3): on random event streams, the fields of one partition's batch equal the sum, field
by field, of each effect's own increments.

`Projection.apply` (one fenced Lua call per partition per batch) and `Projection.catch_up`
(a replay in chunks of `ledger_effects`) both hand a partition's effects to
`settlement_core.buckets.increments_for`, which sums them per group ((bank, category,
currency) by value day; (direction, country, category, currency, year); processing hour)
and names each group's fields once, rolling days up into months and years. Nothing merges
per-event increments. These tests drive real streams through the real planner, batch by
batch against a growing ledger, and compare those group sums with the per-event sums:

- reversals (after their original, before it and pending across batches, mismatched,
  twice), duplicates and conflicting copies, poison messages;
- several banks, currencies of exponents 0, 2 and 3, several categories per event, the
  shipped catalogue's derivation rule and none;
- value days that share a day, a month or a year and cross a year boundary, so groups
  really collapse;
- any cut of the stream into batches and of a partition's journal into replay chunks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from settlement_aggregate.decode import Received, split
from settlement_aggregate.planning import plan_batch
from settlement_aggregate.rows import Key, LedgerRow
from settlement_core.buckets import DISTINCT, Effect, Increments, count_field, increments_for
from settlement_core.categories import Direction
from settlement_core.events import Envelope, SettlementEvent, encode
from settlement_core.rules import CountingRules
from settlement_core.vocabulary import LedgerStatus
from tests.aggregate.streams import EXPONENTS, generate
from tests.plan_catalogue import CODES, KNOWN, PLAIN, RULES

NOW = datetime(2026, 12, 7, 18, 30, tzinfo=UTC)
BANKS = ("bank-a", "bank-b", "bank-c")
# Days that share a day, a month and a year, and two that cross into the next year.
DAYS = (date(2019, 12, 30), date(2019, 12, 31), date(2020, 1, 1), date(2020, 1, 15), date(2020, 2, 29))
CURRENCIES = ("CNY", "USD", "JPY", "KWD")
COUNTRIES = ("CN", "SG", "US")  # CN is home: the derivation rule needs a foreign counterparty


def per_event_sum(effects: Iterable[Effect], rules: CountingRules) -> Increments:
    """The reference: each effect's increments on their own, added field by field."""
    fields: defaultdict[str, int] = defaultdict(int)
    seen: set[str] = set()
    for effect in effects:
        alone = increments_for([effect], rules)
        for name, value in alone.fields.items():
            fields[name] += value
        seen |= alone.seen
    return Increments(fields={k: v for k, v in fields.items() if v != 0}, seen=frozenset(seen))


def assert_exact(effects: Sequence[Effect], rules: CountingRules) -> Increments:
    """The group sums of `effects` (as applied) equal the per-event sum, and count each
    effect once in the distinct volume (a cross-check that does not go through either)."""
    applied = increments_for(effects, rules)
    assert applied == per_event_sum(effects, rules)
    signs: defaultdict[int, int] = defaultdict(int)
    for e in effects:
        signs[e.value_date.year] += (e.amount_minor > 0) - (e.amount_minor < 0)
    assert {y: applied.fields.get(count_field(DISTINCT, y), 0) for y in signs} == dict(signs)
    return applied


@dataclass
class Ledger:
    """What PostgreSQL would hold after each committed batch: the rows by key, with ids,
    and every partition's effects in journal order."""

    rows: dict[Key, LedgerRow]
    journal: defaultdict[int, list[Effect]]
    next_id: int = 1

    def commit(
        self, inserts: Sequence[LedgerRow], updates: Sequence[tuple[int, LedgerStatus]], effects: Sequence[Effect]
    ) -> None:
        by_id = {row.row_id: key for key, row in self.rows.items()}
        for row_id, status in updates:
            key = by_id[row_id]
            self.rows[key] = replace(self.rows[key], status=status)
        for row in inserts:
            self.rows[row.key] = replace(row, row_id=self.next_id)
            self.next_id += 1
        for effect in effects:
            self.journal[effect.partition].append(effect)


def run_stream(
    values: Sequence[tuple[str, bytes]], partitions: int, cuts: Sequence[int], rules: CountingRules
) -> Ledger:
    """Send (bank, message) pairs through split and plan_batch in batches ending at `cuts`
    (each bank on one partition, offsets consecutive per partition), checking every batch's
    per-partition group sums against the per-event sums."""
    offsets: defaultdict[int, int] = defaultdict(int)
    records: list[Received] = []
    for bank, value in values:
        partition = BANKS.index(bank) % partitions if bank in BANKS else sum(bank.encode()) % partitions
        records.append(Received(partition, offsets[partition], bank.encode(), value))
        offsets[partition] += 1
    ledger = Ledger(rows={}, journal=defaultdict(list))
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(records)}), len(records)]
    for start, end in pairwise(bounds):
        valid, invalid = split(records[start:end], KNOWN)
        plan = plan_batch(valid, invalid, ledger.rows, NOW)
        by_partition: defaultdict[int, list[Effect]] = defaultdict(list)
        for effect in plan.effects:
            by_partition[effect.partition].append(effect)
        for effects in by_partition.values():
            assert_exact(effects, rules)
        ledger.commit(plan.inserts, plan.status_updates, plan.effects)
    return ledger


def message(
    bank: str,
    event_id: str,
    categories: tuple[str, ...],
    units: int,
    currency: str,
    day: date,
    direction: str,
    country: str,
    reverses: str | None = None,
) -> bytes:
    event = SettlementEvent(
        bank_id=bank,
        event_id=event_id,
        categories=categories,
        amount=Decimal(units).scaleb(-EXPONENTS[currency]),
        currency=currency,
        value_date=day,
        direction=Direction(direction),
        counterparty_country=country,
        reverses=reverses,
    )
    return encode(Envelope(event, NOW - timedelta(seconds=1)))


@st.composite
def small_streams(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    """Streams over small domains, so that effects often share a bank, category,
    currency and day: originals, exact and conflicting copies, and reversals of events
    sent before or after them (matching, of another amount, or a second time)."""
    originals: list[tuple[str, str, tuple[str, ...], int, str, date, str, str]] = []
    out: list[tuple[str, bytes]] = []
    for n in range(draw(st.integers(1, 60))):
        kind = draw(st.sampled_from(["original"] * 4 + ["copy", "conflict", "reversal", "early-reversal"]))
        if kind in ("copy", "conflict", "reversal") and originals:
            bank, eid, cats, units, currency, day, direction, country = draw(st.sampled_from(originals))
            if kind == "copy":
                out.append((bank, message(bank, eid, cats, units, currency, day, direction, country)))
            elif kind == "conflict":
                out.append((bank, message(bank, eid, cats, units + 1, currency, day, direction, country)))
            else:
                other = draw(st.sampled_from([units, units, units + 1]))
                rid = f"r{n}"
                out.append((bank, message(bank, rid, cats, other, currency, day, direction, country, eid)))
            continue
        bank = draw(st.sampled_from(BANKS))
        cats = tuple(sorted(draw(st.sets(st.sampled_from(CODES), min_size=1, max_size=3))))
        units = draw(st.integers(1, 10**12))
        currency = draw(st.sampled_from(CURRENCIES))
        day = draw(st.sampled_from(DAYS))
        direction = draw(st.sampled_from(["inbound", "outbound"]))
        country = draw(st.sampled_from(COUNTRIES))
        eid = f"e{n}"
        if kind == "early-reversal":  # the reversal first; the original later in the stream
            out.append((bank, message(bank, f"r{n}", cats, units, currency, day, direction, country, eid)))
        originals.append((bank, eid, cats, units, currency, day, direction, country))
        out.append((bank, message(bank, eid, cats, units, currency, day, direction, country)))
    return out


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    stream=small_streams(),
    partitions=st.integers(1, 3),
    cuts=st.lists(st.integers(0, 200), max_size=6),
    rules=st.sampled_from([RULES, PLAIN]),
)
def test_batch_group_sums_equal_the_per_event_sums(
    stream: list[tuple[str, bytes]], partitions: int, cuts: list[int], rules: CountingRules
) -> None:
    ledger = run_stream(stream, partitions, cuts, rules)
    assert any(ledger.journal.values())  # every stream has an original


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    originals=st.integers(20, 250),
    banks=st.integers(1, 8),
    partitions=st.integers(1, 4),
    cuts=st.lists(st.integers(0, 600), max_size=8),
    rules=st.sampled_from([RULES, PLAIN]),
)
def test_oracle_streams_group_sums_equal_the_per_event_sums(
    seed: int, originals: int, banks: int, partitions: int, cuts: list[int], rules: CountingRules
) -> None:
    """The oracle tests' generator: four years of value days, late and out-of-order
    events, reversals of every kind, duplicates, conflicts and poison."""
    msgs = generate(seed, originals=originals, banks=banks, poison_rate=0.05)
    ledger = run_stream([(m.key.decode(), m.value) for m in msgs], partitions, cuts, rules)
    assert sum(len(effects) for effects in ledger.journal.values()) >= originals


@SETTINGS
@given(stream=small_streams(), chunks=st.lists(st.integers(1, 200), max_size=6), rules=st.sampled_from([RULES, PLAIN]))
def test_a_replay_in_chunks_sums_to_the_live_applies(
    stream: list[tuple[str, bytes]], chunks: list[int], rules: CountingRules
) -> None:
    """catch_up replays a partition's journal in chunks (never splitting an offset); the
    chunks' group sums add up to the batches' group sums and to the per-event sum."""
    ledger = run_stream(stream, 1, [], rules)
    journal = ledger.journal[0]
    offsets = sorted({e.offset for e in journal})
    bounds = sorted({offsets[c % len(offsets)] for c in chunks})
    total: defaultdict[str, int] = defaultdict(int)
    seen: set[str] = set()
    after = -1
    for bound in [*bounds, offsets[-1]]:
        chunk = [e for e in journal if after < e.offset <= bound]
        after = max(after, bound)
        applied = assert_exact(chunk, rules)
        for name, value in applied.fields.items():
            total[name] += value
        seen |= applied.seen
    replayed = Increments(fields={k: v for k, v in total.items() if v != 0}, seen=frozenset(seen))
    assert replayed == increments_for(journal, rules) == per_event_sum(journal, rules)
