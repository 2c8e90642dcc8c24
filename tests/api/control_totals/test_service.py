"""Control totals, the pure part (settlement_api.control_totals.service): checking a
declaration, comparing lines, and what happens to breaks. No I/O."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from settlement_api.control_totals.schemas import DeclarationIn
from settlement_api.control_totals.service import (
    NOTHING,
    BreakState,
    BreakStatus,
    Cause,
    ChangeBreak,
    CloseBreak,
    Figures,
    LineComparison,
    LineKey,
    OpenBreak,
    check_declaration,
    compare,
    plan_breaks,
)
from settlement_api.kit.months import Month, parse_month
from settlement_core.problems import Problem

TARGETS = frozenset({"cross_border_rmb", "offshore", "factor_market"})
CURRENCIES = frozenset({"CNY", "USD", "JPY"})
MAX = Decimal(10) ** 15
TODAY = date(2020, 2, 14)
RMB_CNY = LineKey("cross_border_rmb", "CNY")
OFF_USD = LineKey("offshore", "USD")


def declared(period: str = "2020-01", *lines: dict[str, Any]) -> DeclarationIn:
    return DeclarationIn.model_validate({"period": period, "lines": list(lines)})


def line(
    target: str = "cross_border_rmb", currency: str = "CNY", count: int = 2, amount: str = "300.50"
) -> dict[str, Any]:
    return {"target": target, "currency": currency, "count": count, "amount": amount}


def check(body: DeclarationIn) -> Any:
    return check_declaration(body, targets=TARGETS, currencies=CURRENCIES, max_amount=MAX, today=TODAY)


def pointers(body: DeclarationIn) -> dict[str, str]:
    with pytest.raises(Problem) as caught:
        check(body)
    assert caught.value.status == 422
    return {e.pointer: e.message for e in caught.value.errors}


# ----------------------------------------------------------------------------- periods
def test_period_is_a_calendar_month_with_its_first_and_last_day() -> None:
    assert parse_month("2020-02") == Month(2020, 2)
    assert Month(2020, 2).last_day == date(2020, 2, 29)  # a leap year
    assert Month(2019, 12).last_day == date(2019, 12, 31)
    assert Month(2021, 2).first_day == date(2021, 2, 1)
    for bad in ("2020-13", "2020-00", "2020-1", "202001", "2020-01-01", " 2020-01", "2003-12", "２０２０-01"):
        assert parse_month(bad) is None, bad


# ----------------------------------------------------------------------------- declarations
def test_a_valid_declaration_keeps_exact_amounts() -> None:
    result = check(
        declared("2020-01", line(amount="300.5"), line("offshore", "USD", 1, "0.01"), line("offshore", "JPY", 3, "7"))
    )
    assert result.period == Month(2020, 1)
    assert result.lines == {
        RMB_CNY: Figures(2, Decimal("300.5")),
        OFF_USD: Figures(1, Decimal("0.01")),
        LineKey("offshore", "JPY"): Figures(3, Decimal(7)),
    }


def test_no_lines_is_a_declaration_of_no_events() -> None:
    assert check(declared("2020-01")).lines == {}


def test_the_same_lines_in_another_order_or_scale_hash_alike_and_other_figures_do_not() -> None:
    a = check(declared("2020-01", line(amount="300.5"), line("offshore", "USD", 1, "1")))
    b = check(declared("2020-01", line("offshore", "USD", 1, "1.00"), line(amount="300.50")))
    c = check(declared("2020-01", line(amount="300.51"), line("offshore", "USD", 1, "1")))
    assert a.lines_hash() == b.lines_hash()
    assert a.lines_hash() != c.lines_hash()


def test_the_period_must_have_ended() -> None:
    assert "has not ended" in pointers(declared("2020-02"))["#/period"]
    assert "#/period" in pointers(declared("2020-13"))
    assert check(declared("2020-01")).period == Month(2020, 1)


@pytest.mark.parametrize(
    ("bad", "pointer", "words"),
    [
        (line(target="retail"), "#/lines/0/target", "unknown target"),
        (line(currency="XAU"), "#/lines/0/currency", "not a currency"),
        (line(amount="-1.00"), "#/lines/0/amount", "non-negative"),
        (line(amount="1e3"), "#/lines/0/amount", "non-negative"),
        (line(amount="١٢٣"), "#/lines/0/amount", "non-negative"),
        (line(amount="1.001"), "#/lines/0/amount", "at most 2 decimal"),
        (line(currency="JPY", amount="1.5"), "#/lines/0/amount", "at most 0 decimal"),
        (line(count=-1), "#/lines/0/count", "from 0 to"),
        (line(count=10**12 + 1), "#/lines/0/count", "from 0 to"),
        (line(count=0, amount="1.00"), "#/lines/0/amount", "0 events sum to 0"),
        (line(count=3, amount="0.02"), "#/lines/0/amount", "at least 0.03"),
        (line(count=1, amount="1000000000000000.01"), "#/lines/0/amount", "at most"),
    ],
)
def test_bad_lines_are_refused_with_their_pointer(bad: dict[str, Any], pointer: str, words: str) -> None:
    found = pointers(declared("2020-01", bad))
    assert words in found[pointer], found


def test_every_bad_field_is_named_at_once_and_a_repeated_line_points_at_the_first() -> None:
    found = pointers(
        declared("2030-01", line(), line("offshore", "XAU"), line(amount="9.99"), line(target="nope", amount="x"))
    )
    assert set(found) == {"#/period", "#/lines/1/currency", "#/lines/2", "#/lines/3/target", "#/lines/3/amount"}
    assert "#/lines/0" in found["#/lines/2"]


def test_a_whole_json_number_is_a_count() -> None:
    body = DeclarationIn.model_validate({"period": "2020-01", "lines": [{**line(), "count": 2.0}]})
    assert check(body).lines == {RMB_CNY: Figures(2, Decimal("300.50"))}


def test_zero_events_summing_to_zero_is_a_line() -> None:
    assert check(declared("2020-01", line(count=0, amount="0"))).lines == {RMB_CNY: NOTHING}


@pytest.mark.parametrize(
    "body",
    [
        {"period": "2020-01", "lines": [{**line(), "count": "2"}]},
        {"period": "2020-01", "lines": [{**line(), "count": 2.5}]},
        {"period": "2020-01", "lines": [{**line(), "count": True}]},
        {"period": "2020-01", "lines": [{**line(), "amount": 300.5}]},
        {"period": "2020-01", "lines": [{**line(), "bank_id": "other"}]},
        {"period": "2020-01", "bank_id": "other", "lines": []},
    ],
)
def test_shapes_are_strict(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DeclarationIn.model_validate(body)


# ----------------------------------------------------------------------------- comparison
def test_comparison_covers_both_sides_and_differences_are_declared_minus_counted() -> None:
    declared_lines = {RMB_CNY: Figures(3, Decimal("300.50")), OFF_USD: Figures(1, Decimal("5"))}
    counted = {RMB_CNY: Figures(2, Decimal("200.2500")), LineKey("factor_market", "CNY"): Figures(1, Decimal("1"))}
    rows = compare(declared_lines, counted)
    assert [r.key for r in rows] == [LineKey("cross_border_rmb", "CNY"), LineKey("factor_market", "CNY"), OFF_USD]
    rmb, factor, offshore = rows
    assert (rmb.count_difference, rmb.amount_difference, rmb.balanced) == (1, Decimal("100.25"), False)
    assert (factor.count_difference, factor.amount_difference) == (-1, Decimal(-1))
    assert (offshore.counted, offshore.count_difference) == (NOTHING, 1)


def test_equal_figures_at_different_scales_balance() -> None:
    [row] = compare({RMB_CNY: Figures(2, Decimal("300.5"))}, {RMB_CNY: Figures(2, Decimal("300.5000"))})
    assert row.balanced


def test_also_adds_lines_neither_side_has() -> None:
    [row] = compare({}, {}, also=[OFF_USD])
    assert (row.declared, row.counted, row.balanced) == (NOTHING, NOTHING, True)


# ----------------------------------------------------------------------------- breaks
def cmp(key: LineKey, declared_: tuple[int, str], counted: tuple[int, str]) -> LineComparison:
    return LineComparison(key, Figures(declared_[0], Decimal(declared_[1])), Figures(counted[0], Decimal(counted[1])))


def state(
    key: LineKey, status: BreakStatus, declared_: tuple[int, str], counted: tuple[int, str], id_: int = 7
) -> BreakState:
    return BreakState(
        id_, key, status, Figures(declared_[0], Decimal(declared_[1])), Figures(counted[0], Decimal(counted[1]))
    )


def test_an_unbalanced_line_without_a_break_opens_one_and_a_balanced_one_does_nothing() -> None:
    short = cmp(RMB_CNY, (3, "30"), (2, "20"))
    even = cmp(OFF_USD, (1, "1"), (1, "1"))
    assert plan_breaks([short, even], {}, Cause.DECLARATION) == [OpenBreak(short, Cause.DECLARATION)]


def test_the_late_event_closes_the_open_break() -> None:
    previous = state(RMB_CNY, BreakStatus.OPEN, (3, "30"), (2, "20"))
    now = cmp(RMB_CNY, (3, "30"), (3, "30"))
    assert plan_breaks([now], {RMB_CNY: previous}, Cause.EVENTS) == [CloseBreak(7, now, Cause.EVENTS)]


def test_a_new_declaration_closes_it_too_and_says_so() -> None:
    previous = state(RMB_CNY, BreakStatus.OPEN, (3, "30"), (2, "20"))
    now = cmp(RMB_CNY, (2, "20"), (2, "20"))
    assert plan_breaks([now], {RMB_CNY: previous}, Cause.DECLARATION) == [CloseBreak(7, now, Cause.DECLARATION)]


def test_an_open_break_whose_figures_move_is_changed_and_one_that_does_not_is_left() -> None:
    previous = state(RMB_CNY, BreakStatus.OPEN, (5, "50"), (2, "20"))
    moved = cmp(RMB_CNY, (5, "50"), (3, "30"))
    both = cmp(RMB_CNY, (6, "60"), (3, "30"))
    assert plan_breaks([moved], {RMB_CNY: previous}, Cause.EVENTS) == [ChangeBreak(7, moved, Cause.EVENTS)]
    assert plan_breaks([both], {RMB_CNY: previous}, Cause.EVENTS) == [
        ChangeBreak(7, both, Cause.DECLARATION_AND_EVENTS)
    ]
    assert plan_breaks([cmp(RMB_CNY, (5, "50"), (2, "20"))], {RMB_CNY: previous}, Cause.EVENTS) == []


def test_an_acknowledged_break_stays_unless_its_figures_move() -> None:
    acknowledged = state(RMB_CNY, BreakStatus.ACKNOWLEDGED, (3, "30"), (2, "20"))
    same = cmp(RMB_CNY, (3, "30"), (2, "20"))
    assert plan_breaks([same], {RMB_CNY: acknowledged}, Cause.EVENTS) == []
    # It covered a difference of one event; two is a new break.
    wider = cmp(RMB_CNY, (3, "30"), (1, "10"))
    assert plan_breaks([wider], {RMB_CNY: acknowledged}, Cause.EVENTS) == [OpenBreak(wider, Cause.EVENTS)]
    # Balanced again: nothing to do, the acknowledged record stays.
    assert plan_breaks([cmp(RMB_CNY, (3, "30"), (3, "30"))], {RMB_CNY: acknowledged}, Cause.EVENTS) == []


def test_a_closed_break_reopens_as_a_new_break_when_events_overshoot() -> None:
    closed = state(RMB_CNY, BreakStatus.CLOSED, (3, "30"), (3, "30"))
    over = cmp(RMB_CNY, (3, "30"), (4, "40"))
    assert plan_breaks([over], {RMB_CNY: closed}, Cause.DECLARATION) == [OpenBreak(over, Cause.EVENTS)]


def test_every_open_break_must_be_compared() -> None:
    with pytest.raises(ValueError, match="without a comparison"):
        plan_breaks([], {RMB_CNY: state(RMB_CNY, BreakStatus.OPEN, (1, "1"), (0, "0"))}, Cause.EVENTS)
