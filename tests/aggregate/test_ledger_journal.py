"""Pure unit tests: the compact journal (an effect stored as references to ledger_events
rows) gives back exactly the effects the planner made, for every way an effect arises."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from settlement_aggregate.ledger import (
    EVENT_COPY_COLUMNS,
    effect_copy_row,
    effect_from_row,
    effect_reference,
    event_copy_row,
)
from settlement_aggregate.planning import BatchPlan
from settlement_aggregate.rows import Key, LedgerRow
from settlement_core.buckets import Effect
from settlement_core.errors import JournalMismatch
from settlement_core.vocabulary import LedgerStatus
from tests.aggregate.test_aggregate_planning import plan, raw, stored, valid


def _ids(
    p: BatchPlan, known: dict[Key, LedgerRow], first_new: int = 100
) -> tuple[dict[Key, LedgerRow], dict[Key, int]]:
    rows: dict[Key, LedgerRow] = dict(known)
    ids = {k: r.row_id for k, r in known.items() if r.row_id is not None}
    for n, r in enumerate(p.inserts):
        rows[r.key] = r
        ids[r.key] = first_new + n
    return rows, ids


def _read_back(effect: Effect, rows: dict[Key, LedgerRow], ids: dict[Key, int]) -> Effect:
    """What the replay query returns for the stored form of `effect`, through effect_from_row."""
    event_row_id, reversal_row_id = effect_reference(effect, rows, ids)
    by_id = {ids[k]: r for k, r in rows.items()}
    original = by_id[event_row_id]
    reversal = None if reversal_row_id is None else by_id[reversal_row_id]
    return effect_from_row(
        SimpleNamespace(
            kafka_partition=effect.partition,
            kafka_offset=effect.offset,
            processed_at=effect.processed_at,
            reversal_event_id=None if reversal is None else reversal.event_id,
            bank_id=original.bank_id,
            event_id=original.event_id,
            categories=list(original.categories),
            value_date=original.value_date,
            currency=original.currency,
            direction=original.direction,
            counterparty_country=original.country,
            amount=original.amount,
        )
    )


def _round_trip(p: BatchPlan, known: dict[Key, LedgerRow]) -> None:
    rows, ids = _ids(p, known)
    assert p.effects
    assert [_read_back(e, rows, ids) for e in p.effects] == list(p.effects)


def test_an_original_is_stored_as_a_reference_to_itself() -> None:
    p = plan(valid(0, raw("e1", "12.34", currency="USD")))
    rows, ids = _ids(p, {})
    [effect] = p.effects
    assert effect_reference(effect, rows, ids) == (100, None)
    _round_trip(p, {})


def test_a_reversal_after_its_original_subtracts_the_original() -> None:
    original = stored(valid(0, raw("o1", "25.00")), LedgerStatus.COUNTED, 7)
    p = plan(valid(5, raw("r1", "25.00", reverses="o1")), known={original.key: original})
    rows, ids = _ids(p, {original.key: original})
    [effect] = p.effects
    assert effect.amount_minor == -2500
    assert effect_reference(effect, rows, ids) == (7, 100)
    _round_trip(p, {original.key: original})


def test_a_pending_reversal_applied_when_its_original_arrives_later() -> None:
    pending = stored(valid(0, raw("r1", "3.00", reverses="o1")), LedgerStatus.REVERSAL_PENDING, 3)
    p = plan(valid(9, raw("o1", "3.00")), known={pending.key: pending})
    rows, ids = _ids(p, {pending.key: pending})
    assert [effect_reference(e, rows, ids) for e in p.effects] == [(100, None), (100, 3)]
    _round_trip(p, {pending.key: pending})


def test_original_and_reversal_in_one_batch_and_several_categories() -> None:
    both = ("cross_border_ecommerce", "cross_border_rmb")
    p = plan(
        valid(0, raw("r1", "1", currency="JPY", reverses="o1")),
        valid(1, raw("o1", "1", currency="JPY", categories=both)),
        valid(2, raw("o2", "0.125", currency="KWD")),
    )
    assert [e.amount_minor for e in p.effects] == [1, -1, 125]
    _round_trip(p, {})


def test_an_effect_its_rows_would_not_reproduce_is_refused() -> None:
    p = plan(valid(0, raw("e1", "12.34")))
    rows, ids = _ids(p, {})
    [effect] = p.effects
    for wrong in (
        replace(effect, amount_minor=1233),
        replace(effect, amount_minor=-1234),
        replace(effect, currency="USD"),
        replace(effect, categories=("offshore", "cross_border_rmb")),
        replace(effect, country="HK"),
        replace(effect, direction="inbound"),
        replace(effect, value_date=effect.value_date.replace(day=1)),
    ):
        with pytest.raises(JournalMismatch):
            effect_reference(wrong, rows, ids)


def test_copy_rows_hold_the_digest_as_bytes_and_the_references() -> None:
    p = plan(valid(0, raw("e1")))
    [row] = p.inserts
    copied = event_copy_row(row)
    assert copied[EVENT_COPY_COLUMNS.index("body_hash")] == bytes.fromhex(row.body_hash)
    [effect] = p.effects
    assert effect_copy_row(effect, 41, None) == [effect.offset, 41, effect.processed_at, effect.partition, None]
    assert effect_copy_row(effect, 41, 42)[-1] == 42
