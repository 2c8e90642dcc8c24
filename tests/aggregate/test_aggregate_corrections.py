"""Pure unit tests: a correction nets out as a reversal of its original plus its own figure,
is refused (dead-lettered, nothing counted) exactly where a reversal would be, and its two
effects are stored as references that read back to exactly what was applied."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from settlement_aggregate.ledger import effect_reference
from settlement_aggregate.planning import BatchPlan
from settlement_aggregate.rows import Key, LedgerRow
from settlement_core.money import to_minor
from settlement_core.vocabulary import LedgerStatus
from tests.aggregate.test_aggregate_planning import net, plan, raw, stored, valid
from tests.aggregate.test_ledger_journal import _ids, _round_trip


def _minor(amount: str) -> int:
    return to_minor(Decimal(amount), "CNY")


def _counted(original_id: str = "o1", amount: str = "100.00", row_id: int = 7) -> tuple[Key, LedgerRow]:
    row = stored(valid(0, raw(original_id, amount)), LedgerStatus.COUNTED, row_id)
    return row.key, row


def test_a_correction_subtracts_its_original_and_counts_its_own_figure() -> None:
    key, original = _counted(amount="100.00")
    p = plan(
        valid(4, raw("c1", "120.50", corrects="o1", reason_code="WRONG_AMOUNT", category="factor_market")),
        known={key: original},
    )
    # Its own figure (its own attributes), then the original's taken off (the original's).
    assert [(e.event_id, e.amount_minor, e.categories, e.offset) for e in p.effects] == [
        ("c1", 12050, ("factor_market",), 4),
        ("c1", -10000, ("offshore",), 4),
    ]
    # Exactly a reversal of the original plus a new event (the Decimal oracle).
    assert net(p) == _minor("120.50") - _minor("100.00")
    assert [(r.event_id, r.status, r.corrects, r.reason_code) for r in p.inserts] == [
        ("c1", LedgerStatus.COUNTED, "o1", "WRONG_AMOUNT")
    ]
    assert p.status_updates == ((7, LedgerStatus.REVERSED),)
    assert (p.corrections_applied, p.reversals_applied, p.counted) == (1, 0, {"factor_market": 1})
    assert not p.dlq


def test_a_correction_of_a_new_date_moves_the_figure_to_that_date() -> None:
    key, original = _counted(amount="10.00")
    p = plan(
        valid(2, raw("c1", "10.00", corrects="o1", reason_code="WRONG_DATE", value_date=date(2020, 7, 1))),
        known={key: original},
    )
    assert net(p) == 0
    assert [(e.value_date, e.amount_minor) for e in p.effects] == [
        (date(2020, 7, 1), 1000),
        (original.value_date, -1000),
    ]


def test_original_and_corrections_of_corrections_in_one_batch_net_to_the_last_figure() -> None:
    p = plan(
        valid(0, raw("o1", "10.00")),
        valid(1, raw("c1", "11.00", corrects="o1", reason_code="WRONG_AMOUNT")),
        valid(2, raw("c2", "12.00", corrects="c1", reason_code="OTHER", reason_text="second look")),
    )
    assert net(p) == _minor("12.00")
    status = {r.event_id: r.status for r in p.inserts}
    assert status == {"o1": LedgerStatus.REVERSED, "c1": LedgerStatus.REVERSED, "c2": LedgerStatus.COUNTED}
    assert p.corrections_applied == 2
    _round_trip(p, {})


def test_a_reversal_of_a_correction_withdraws_the_corrected_figure() -> None:
    p = plan(
        valid(0, raw("o1", "10.00")),
        valid(1, raw("c1", "11.00", corrects="o1", reason_code="WRONG_AMOUNT")),
        valid(2, raw("r1", "11.00", reverses="c1")),
    )
    assert net(p) == 0
    assert {r.event_id: r.status for r in p.inserts}["c1"] is LedgerStatus.REVERSED
    _round_trip(p, {})


def _refused(p: BatchPlan) -> list[tuple[int, str]]:
    assert not p.effects, "a refused correction changes nothing"
    assert not p.inserts
    assert not p.status_updates
    return [(d.offset, d.reason) for d in p.dlq]


def test_refusals_like_a_reversal_unknown_other_bank_self_reversal_and_twice() -> None:
    key, original = _counted()
    known = {key: original}
    # An unknown original: dead-lettered (it cannot wait: its own figure would count first).
    assert _refused(plan(valid(3, raw("c1", corrects="o9", reason_code="WRONG_AMOUNT")), known=known)) == [
        (3, "unknown_original")
    ]
    # Another bank's event of the same id is, for this bank, an unknown event.
    other = valid(3, raw("c1", corrects="o1", reason_code="WRONG_AMOUNT", bank="b2"))
    assert _refused(plan(other, known=known)) == [(3, "unknown_original")]
    # Itself.
    assert _refused(plan(valid(3, raw("c1", corrects="c1", reason_code="WRONG_AMOUNT")), known=known)) == [
        (3, "reversal_mismatch")
    ]
    # A reversal cannot be corrected (it has no figure of its own).
    rev = stored(valid(1, raw("r1", "100.00", reverses="o1")), LedgerStatus.REVERSAL_APPLIED, 8)
    assert _refused(plan(valid(3, raw("c1", corrects="r1", reason_code="WRONG_AMOUNT")), known={rev.key: rev})) == [
        (3, "reversal_mismatch")
    ]
    # An original already reversed or corrected.
    gone = stored(valid(0, raw("o1", "100.00")), LedgerStatus.REVERSED, 7)
    assert _refused(plan(valid(3, raw("c1", corrects="o1", reason_code="WRONG_AMOUNT")), known={gone.key: gone})) == [
        (3, "already_reversed")
    ]


def test_a_second_correction_or_a_reversal_after_a_correction_is_already_reversed() -> None:
    p = plan(
        valid(0, raw("o1", "10.00")),
        valid(1, raw("c1", "11.00", corrects="o1", reason_code="WRONG_AMOUNT")),
        valid(2, raw("c2", "12.00", corrects="o1", reason_code="WRONG_AMOUNT")),
        valid(3, raw("r1", "10.00", reverses="o1")),
    )
    assert [(d.offset, d.reason) for d in p.dlq] == [(2, "already_reversed"), (3, "already_reversed")]
    assert net(p) == _minor("11.00")
    assert json.loads(p.dlq[0].raw or b"{}")["corrects"] == "o1"


def test_a_redelivered_correction_counts_once() -> None:
    key, original = _counted(amount="10.00")
    item = valid(4, raw("c1", "11.00", corrects="o1", reason_code="WRONG_AMOUNT"))
    first = plan(item, known={key: original})
    again = stored(item, LedgerStatus.COUNTED, 100)
    gone = stored(valid(0, raw("o1", "10.00")), LedgerStatus.REVERSED, 7)
    second = plan(item, known={gone.key: gone, again.key: again})
    assert net(first) == 100
    assert (second.effects, second.inserts, second.duplicates) == ((), (), 1)


def test_a_reversal_waiting_for_a_correction_applies_when_it_arrives() -> None:
    key, original = _counted(amount="10.00")
    pending = stored(valid(1, raw("r1", "11.00", reverses="c1")), LedgerStatus.REVERSAL_PENDING, 9)
    p = plan(
        valid(5, raw("c1", "11.00", corrects="o1", reason_code="WRONG_AMOUNT")),
        known={key: original, pending.key: pending},
    )
    assert net(p) == -1000  # +11 own, -11 by the waiting reversal, -10 the original
    assert dict(p.status_updates) == {9: LedgerStatus.REVERSAL_APPLIED, 7: LedgerStatus.REVERSED}
    rows, ids = _ids(p, {key: original, pending.key: pending})
    assert [effect_reference(e, rows, ids) for e in p.effects] == [(100, None), (100, 9), (7, 100)]
    _round_trip(p, {key: original, pending.key: pending})


def test_the_correction_effects_round_trip_through_the_journal() -> None:
    key, original = _counted(amount="100.00")
    p = plan(valid(4, raw("c1", "120.50", corrects="o1", reason_code="WRONG_AMOUNT")), known={key: original})
    rows, ids = _ids(p, {key: original})
    assert [effect_reference(e, rows, ids) for e in p.effects] == [(100, None), (7, 100)]
    _round_trip(p, {key: original})
