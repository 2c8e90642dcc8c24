"""Pure unit tests: decoding, reversal matching and batch planning (no servers)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from settlement_aggregate.decode import InvalidRecord, Received, Valid, classify, split
from settlement_aggregate.faults import FaultHook
from settlement_aggregate.planning import BatchPlan, plan_batch, referenced_keys
from settlement_aggregate.reversals import ReversalClaim, Verdict, match
from settlement_aggregate.rows import Key, LedgerRow
from settlement_core.categories import Direction
from settlement_core.events import Envelope, SettlementEvent, encode
from settlement_core.vocabulary import DlqReason, LedgerStatus
from tests.plan_catalogue import KNOWN

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DAY = date(2020, 6, 30)


def raw(
    event_id: str,
    amount: str = "10.00",
    *,
    currency: str = "CNY",
    bank: str = "b1",
    reverses: str | None = None,
    category: str = "offshore",
    categories: tuple[str, ...] | None = None,
    corrects: str | None = None,
    reason_code: str | None = None,
    reason_text: str | None = None,
    value_date: date = DAY,
) -> bytes:
    ev = SettlementEvent(
        bank_id=bank,
        event_id=event_id,
        categories=categories or (category,),
        amount=Decimal(amount),
        currency=currency,
        value_date=value_date,
        direction=Direction.OUTBOUND,
        counterparty_country="SG",
        reverses=reverses,
        corrects=corrects,
        reason_code=reason_code,
        reason_text=reason_text,
    )
    return encode(Envelope(ev, NOW))


def valid(offset: int, value: bytes, partition: int = 0) -> Valid:
    item = classify(Received(partition, offset, b"b1", value), KNOWN)
    assert isinstance(item, Valid), item
    return item


def stored(item: Valid, status: LedgerStatus, row_id: int) -> LedgerRow:
    ev = item.envelope.event
    return LedgerRow(
        row_id=row_id,
        bank_id=ev.bank_id,
        event_id=ev.event_id,
        body_hash=item.body_hash,
        categories=ev.categories,
        amount=ev.amount.quantize(Decimal("0.0001")),  # as numeric(30, 4) returns it
        currency=ev.currency,
        value_date=ev.value_date,
        direction=ev.direction.value,
        country=ev.counterparty_country,
        reverses=ev.reverses,
        uetr=None,
        status=status,
        partition=item.partition,
        offset=item.offset,
        ingested_at=NOW,
        corrects=ev.corrects,
        reason_code=ev.reason_code,
        reason_text=ev.reason_text,
    )


def plan(
    *items: Valid, known: dict[Key, LedgerRow] | None = None, invalid: tuple[InvalidRecord, ...] = ()
) -> BatchPlan:
    return plan_batch(list(items), list(invalid), known or {}, NOW)


def net(p: BatchPlan) -> int:
    return sum(e.amount_minor for e in p.effects)


# -- decode ---------------------------------------------------------------------------


def test_classify_splits_poison_from_valid_with_reasons() -> None:
    good = raw("e1")
    bad_json = b"{nope"
    bad_currency = json.dumps({**json.loads(good), "currency": "XXX"}).encode()
    sub_minor = json.dumps({**json.loads(good), "amount": "1.001"}).encode()
    records = [Received(0, i, b"k", v) for i, v in enumerate([good, bad_json, bad_currency, sub_minor, None])]
    ok, poison = split(records, KNOWN)
    assert [v.offset for v in ok] == [0]
    assert ok[0].amount_minor == 1000
    assert [(p.offset, p.reason) for p in poison] == [
        (1, "undecodable"),
        (2, "schema"),
        (3, "schema"),
        (4, "undecodable"),
    ]
    assert poison[0].raw == bad_json


# -- reversal matching ----------------------------------------------------------------


def original_row(status: LedgerStatus = LedgerStatus.COUNTED, reverses: str | None = None) -> LedgerRow:
    return stored(valid(0, raw("o1", "25.00", reverses=reverses)), status, 1)


@pytest.mark.parametrize(
    ("row", "claim", "by", "verdict"),
    [
        (original_row(), ReversalClaim("b1", "r1", "o1", Decimal("25.00"), "CNY"), None, Verdict.APPLY),
        (original_row(), ReversalClaim("b1", "r1", "o1", Decimal("25"), "CNY"), None, Verdict.APPLY),
        (original_row(), ReversalClaim("b1", "r1", "o1", Decimal("25.01"), "CNY"), None, Verdict.MISMATCH),
        (original_row(), ReversalClaim("b1", "r1", "o1", Decimal("25.00"), "USD"), None, Verdict.MISMATCH),
        (original_row(), ReversalClaim("b2", "r1", "o1", Decimal("25.00"), "CNY"), None, Verdict.MISMATCH),
        (
            original_row(LedgerStatus.REVERSED),
            ReversalClaim("b1", "r1", "o1", Decimal("25.00"), "CNY"),
            "r0",
            Verdict.ALREADY_REVERSED,
        ),
        (original_row(), ReversalClaim("b1", "r1", "o1", Decimal("25.00"), "CNY"), "r0", Verdict.ALREADY_REVERSED),
        (
            original_row(LedgerStatus.REVERSAL_APPLIED, reverses="x"),
            ReversalClaim("b1", "r1", "o1", Decimal("25.00"), "CNY"),
            None,
            Verdict.MISMATCH,
        ),
    ],
)
def test_match(row: LedgerRow, claim: ReversalClaim, by: str | None, verdict: Verdict) -> None:
    assert match(row, claim, already_reversed_by=by).verdict is verdict


# -- batch planning -------------------------------------------------------------------


def test_original_counts_and_identical_copy_is_a_duplicate() -> None:
    p = plan(valid(0, raw("e1", "10.00")), valid(1, raw("e1", "10.00")))
    assert [r.event_id for r in p.inserts] == ["e1"]
    assert net(p) == 1000
    assert p.duplicates == 1
    assert p.counted == {"offshore": 1}
    assert not p.dlq


def test_conflicting_copy_goes_to_dlq_in_batch_and_against_the_ledger() -> None:
    first = valid(0, raw("e1", "10.00"))
    p = plan(first, valid(1, raw("e1", "11.00")))
    assert [(d.offset, d.reason) for d in p.dlq] == [(1, "conflicting_duplicate")]
    later = plan(valid(7, raw("e1", "12.00")), known={("b1", "e1"): stored(first, LedgerStatus.COUNTED, 5)})
    assert [d.reason for d in later.dlq] == ["conflicting_duplicate"]
    assert later.dlq[0].raw == raw("e1", "12.00")
    assert not later.effects
    assert not later.inserts


def test_reversal_after_original_subtracts_with_the_originals_attributes() -> None:
    p = plan(
        valid(0, raw("o1", "10.00", category="offshore")),
        valid(1, raw("r1", "10.00", reverses="o1", category="factor_market")),
    )
    assert [e.amount_minor for e in p.effects] == [1000, -1000]
    reversal_effect = p.effects[1]
    assert (reversal_effect.categories, reversal_effect.offset, reversal_effect.event_id) == (("offshore",), 1, "r1")
    assert {r.event_id: r.status for r in p.inserts} == {
        "o1": LedgerStatus.REVERSED,
        "r1": LedgerStatus.REVERSAL_APPLIED,
    }
    assert p.reversals_applied == 1


def test_reversal_before_original_waits_then_applies_in_a_later_batch() -> None:
    r1 = valid(0, raw("r1", "10.00", reverses="o1"))
    first = plan(r1)
    assert [(r.event_id, r.status) for r in first.inserts] == [("r1", LedgerStatus.REVERSAL_PENDING)]
    assert not first.effects
    assert first.reversals_pending == 1
    second = plan(valid(5, raw("o1", "10.00")), known={("b1", "r1"): stored(r1, LedgerStatus.REVERSAL_PENDING, 9)})
    assert [(e.offset, e.amount_minor) for e in second.effects] == [(5, 1000), (5, -1000)]
    assert second.status_updates == ((9, LedgerStatus.REVERSAL_APPLIED),)
    assert [(r.event_id, r.status) for r in second.inserts] == [("o1", LedgerStatus.REVERSED)]
    assert second.reversals_applied == 1


def test_pending_reversal_that_does_not_match_is_rejected_to_the_dlq() -> None:
    r1 = valid(0, raw("r1", "10.00", reverses="o1"))
    p = plan(valid(3, raw("o1", "10.50")), known={("b1", "r1"): stored(r1, LedgerStatus.REVERSAL_PENDING, 9)})
    assert [e.amount_minor for e in p.effects] == [1050]
    assert p.status_updates == ((9, LedgerStatus.REVERSAL_REJECTED),)
    assert [(d.partition, d.offset, d.reason, d.event_id) for d in p.dlq] == [(0, 0, "reversal_mismatch", "r1")]
    assert p.dlq[0].raw is not None
    assert json.loads(p.dlq[0].raw)["reverses"] == "o1"


def test_reversing_twice_counts_once() -> None:
    p = plan(
        valid(0, raw("o1")),
        valid(1, raw("r1", reverses="o1")),
        valid(2, raw("r2", reverses="o1")),
        valid(3, raw("r1", reverses="o1")),
    )
    assert net(p) == 0
    assert [(d.offset, d.reason) for d in p.dlq] == [(2, "already_reversed")]
    assert p.duplicates == 1


def test_second_pending_reversal_is_already_reversed() -> None:
    p = plan(valid(0, raw("r1", reverses="o1")), valid(1, raw("r2", reverses="o1")))
    assert [(d.offset, d.reason) for d in p.dlq] == [(1, "already_reversed")]


def test_a_redelivered_dead_lettered_record_keeps_its_first_decision() -> None:
    """r1 (wrong amount) waits for o1, r2 is refused as already_reversed, o1 rejects r1.
    Delivered again (a replay), r2 must stay refused: deciding it afresh would reverse o1."""
    r1 = valid(0, raw("r1", "10.50", reverses="o1"))
    r2 = valid(1, raw("r2", "10.00", reverses="o1"))
    o1 = valid(2, raw("o1", "10.00"))
    first = plan(r1, r2, o1)
    assert net(first) == 1000
    assert sorted((d.offset, d.reason) for d in first.dlq) == [(0, "reversal_mismatch"), (1, "already_reversed")]
    ledger = {
        ("b1", "r1"): stored(r1, LedgerStatus.REVERSAL_REJECTED, 1),
        ("b1", "o1"): stored(o1, LedgerStatus.COUNTED, 2),
    }
    decided = frozenset((d.partition, d.offset) for d in first.dlq)
    again = plan_batch([r1, r2, o1], [], ledger, NOW, decided)
    assert (again.effects, again.dlq, again.inserts, again.status_updates) == ((), (), (), ())
    assert again.duplicates == 3
    # Without the record of the first decision, the replay would have reversed o1.
    assert net(plan_batch([r2], [], ledger, NOW)) == -1000


def test_a_redelivered_poison_record_is_not_dead_lettered_twice() -> None:
    poison = classify(Received(0, 7, b"b1", b"{not json"), KNOWN)
    assert isinstance(poison, InvalidRecord)
    assert len(plan(invalid=(poison,)).dlq) == 1
    again = plan_batch([], [poison], {}, NOW, frozenset({(0, 7)}))
    assert (again.dlq, again.duplicates) == ((), 1)


def test_reversal_mismatch_and_self_reversal_are_not_counted() -> None:
    p = plan(
        valid(0, raw("o1", "10.00")),
        valid(1, raw("r1", "10.00", currency="USD", reverses="o1")),
        valid(2, raw("r2", reverses="r2")),
    )
    assert net(p) == 1000
    assert [d.reason for d in p.dlq] == ["reversal_mismatch", "reversal_mismatch"]
    assert [r.event_id for r in p.inserts] == ["o1"]


def test_known_reversed_original_rejects_a_new_reversal() -> None:
    o1 = valid(0, raw("o1"))
    r1 = valid(1, raw("r1", reverses="o1"))
    known = {
        ("b1", "o1"): stored(o1, LedgerStatus.REVERSED, 1),
        ("b1", "r1"): stored(r1, LedgerStatus.REVERSAL_APPLIED, 2),
    }
    p = plan(valid(9, raw("r2", reverses="o1")), known=known)
    assert [d.reason for d in p.dlq] == ["already_reversed"]
    assert not p.effects


def test_invalid_messages_are_planned_as_dlq_entries_in_offset_order() -> None:
    bad = InvalidRecord(0, 1, b"k", b"junk", DlqReason.UNDECODABLE, "not JSON")
    p = plan(valid(0, raw("e1")), valid(2, raw("e2")), invalid=(bad,))
    assert [(d.offset, d.reason, d.raw) for d in p.dlq] == [(1, "undecodable", b"junk")]
    assert net(p) == 2000


def test_effects_are_journalled_at_the_partition_and_offset_that_caused_them() -> None:
    # Items are planned in (partition, offset) order; a reversal's effect belongs to the
    # reversal's own partition/offset, which is what the Redis fence of that partition covers.
    p = plan(valid(4, raw("r1", reverses="o1"), partition=1), valid(7, raw("o1"), partition=0))
    assert [(e.partition, e.offset, e.amount_minor) for e in p.effects] == [(0, 7, 1000), (1, 4, -1000)]


def test_referenced_keys_cover_targets_and_waiting_reversals() -> None:
    by_key, by_reverses = referenced_keys([valid(0, raw("o1")), valid(1, raw("r1", reverses="o9"))])
    assert by_key == {("b1", "o1"), ("b1", "r1"), ("b1", "o9")}
    assert by_reverses == {("b1", "o1"), ("b1", "o9")}


def test_fault_hook_parsing() -> None:
    assert FaultHook.parse(None).crash_after_commit_batch is None
    assert FaultHook.parse("crash_after_ledger_commit:3").crash_after_commit_batch == 3
    for bad in ("crash_after_ledger_commit:0", "crash:1", "crash_after_ledger_commit:x"):
        with pytest.raises(ValueError, match="AGGREGATE_FAULT"):
            FaultHook.parse(bad)


# -- per-event fast paths ---------------------------------------------------------------


def test_split_reads_kafka_consumer_records_directly() -> None:
    from kafka.consumer.fetcher import ConsumerRecord

    def record(offset: int, value: bytes | None) -> ConsumerRecord:
        return ConsumerRecord(
            "t", 3, -1, offset, 0, 0, b"b1", value, [], None, 2, -1 if value is None else len(value), -1
        )

    good, bad = split([record(7, raw("e1")), record(8, None)], KNOWN)
    assert [(v.partition, v.offset, v.key, v.raw) for v in good] == [(3, 7, b"b1", raw("e1"))]
    assert [(i.partition, i.offset, i.reason) for i in bad] == [(3, 8, "undecodable")]


def test_split_of_a_poll_classifies_every_record_as_classify_does() -> None:
    # split decodes the whole poll in one columnar pass (events.poll_decoder) and classify
    # one record strictly: valid, poison, past-64-bit and tombstone records in one poll
    # must come out alike, in poll order (the decoders themselves are compared over random
    # and mutated messages in tests/settlement_core/events/test_poll_decoder.py).
    values: list[bytes | None] = [
        raw("e1"),
        raw("e2", "0.001", currency="KWD"),
        raw("e3", categories=("factor_market", "offshore")),
        raw("e4", reverses="e1"),
        raw("e5", "99999999999999999999.99"),  # past the 64-bit minor-unit range
        json.dumps({**json.loads(raw("e6")), "amount": "1.001"}).encode(),
        json.dumps({**json.loads(raw("e7")), "bank_id": "bad id"}).encode(),
        b"{not json",
        None,
        raw("e8", bank="b2"),
        raw("e9", category="retail"),  # not a catalogue code
    ]
    records = [Received(i % 3, i, b"k", v) for i, v in enumerate(values)]
    good, bad = split(records, KNOWN)
    one_by_one = [classify(r, KNOWN) for r in records]
    assert good == [c for c in one_by_one if isinstance(c, Valid)]
    assert bad == [c for c in one_by_one if isinstance(c, InvalidRecord)]
    assert [v.offset for v in good] == [0, 1, 2, 3, 9]
    assert [(i.offset, i.reason) for i in bad] == [
        (4, "schema"),
        (5, "schema"),
        (6, "schema"),
        (7, "undecodable"),
        (8, "undecodable"),
        (10, "schema"),
    ]


def test_planned_rows_and_effects_hold_plain_strings_and_exact_minor_units() -> None:
    # psycopg would dump an Enum member by name: COPY rows must carry the values as str.
    p = plan(
        valid(0, raw("e1", "12.34", currency="KWD")),
        valid(1, raw("e2", "5", currency="JPY")),
        valid(2, raw("r2", "5", currency="JPY", reverses="e2")),
    )
    for row in p.inserts:
        assert (type(row.categories), type(row.direction)) == (tuple, str)
        assert (row.categories, row.direction) == (("offshore",), "outbound")
    assert [(e.event_id, e.amount_minor) for e in p.effects] == [("e1", 12340), ("e2", 5), ("r2", -5)]
    assert all(type(e.categories) is tuple and type(e.direction) is str for e in p.effects)


def test_binary_copy_types_match_the_table_columns() -> None:
    from sqlalchemy import ColumnElement
    from sqlalchemy.dialects import postgresql

    from settlement_aggregate import ledger
    from settlement_core.db.models import LEDGER_EFFECTS, LedgerEvent

    names = {
        "SMALLINT": "int2",
        "INTEGER": "int4",
        "BIGINT": "int8",
        "DATE": "date",
        "UUID": "uuid",
        "TIMESTAMP WITH TIME ZONE": "timestamptz",
    }

    def copy_type(column: ColumnElement[Any]) -> str:
        # SQLAlchemy's psycopg dialect class has an unannotated __init__ (as in ledger.py).
        compiled = column.type.compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
        if compiled.endswith("[]"):
            return copy_type_of(compiled.removesuffix("[]")) + "[]"
        return copy_type_of(compiled)

    def copy_type_of(compiled: str) -> str:
        return names.get(compiled) or compiled.split("(")[0].lower()

    events = LedgerEvent.__table__.c
    stage_columns = [c.strip() for c in ledger._EVENT_COLUMNS.split(",")]
    assert [copy_type(events[c]) for c in stage_columns] == list(ledger.STAGE_EVENT_COPY_TYPES)
    # Every column but the generated id and applied_at is written, categories as an array.
    assert set(stage_columns) == {c.name for c in LedgerEvent.__table__.columns} - {"id", "applied_at"}
    assert ledger.STAGE_EVENT_COPY_TYPES[stage_columns.index("categories")] == "varchar[]"
    assert ledger.STAGE_EVENT_COPY_TYPES[stage_columns.index("body_hash")] == "bytea"
    effects = LEDGER_EFFECTS.c
    assert [copy_type(effects[c]) for c in ledger.EFFECT_COPY_COLUMNS] == list(ledger.EFFECT_COPY_TYPES)
    assert ledger.EFFECT_COPY_TYPES == ("int8", "int8", "timestamptz", "int2", "int8")


# -- several categories -----------------------------------------------------------------

BOTH = ("cross_border_ecommerce", "cross_border_rmb")


def test_an_event_with_two_categories_is_one_row_and_one_effect() -> None:
    p = plan(valid(0, raw("m1", "100.00", categories=BOTH)))
    [row] = p.inserts
    [effect] = p.effects
    assert row.categories == BOTH
    assert (effect.categories, effect.amount_minor) == (BOTH, 10000)
    assert p.counted == {"cross_border_ecommerce": 1, "cross_border_rmb": 1}


def test_a_retry_with_the_categories_in_another_order_is_a_duplicate() -> None:
    first = valid(0, raw("m1", "100.00", categories=BOTH))
    again = valid(1, raw("m1", "100.00", categories=BOTH[::-1]))
    p = plan(again, known={("b1", "m1"): stored(first, LedgerStatus.COUNTED, 1)})
    assert (p.duplicates, p.effects, p.dlq) == (1, (), ())


def test_other_categories_under_the_same_id_are_a_conflict() -> None:
    first = valid(0, raw("m1", "100.00", categories=BOTH))
    other = valid(1, raw("m1", "100.00", category="cross_border_rmb"))
    p = plan(other, known={("b1", "m1"): stored(first, LedgerStatus.COUNTED, 1)})
    assert [d.reason for d in p.dlq] == ["conflicting_duplicate"]
    assert p.effects == ()


def test_a_reversal_takes_the_amount_off_every_category_of_the_original() -> None:
    original = valid(0, raw("m1", "100.00", categories=BOTH))
    # The reversal's own categories do not matter: it negates the original as recorded.
    reversal = valid(1, raw("r1", "100.00", reverses="m1", category="factor_market"))
    p = plan(reversal, known={("b1", "m1"): stored(original, LedgerStatus.COUNTED, 1)})
    [effect] = p.effects
    assert (effect.categories, effect.amount_minor, effect.event_id) == (BOTH, -10000, "r1")
