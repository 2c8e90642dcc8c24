"""Knowledge-time reads from the ledger (kit/known_at.py) against an independent oracle, at
several knowledge times across a reversal, a late event and a rule change recorded by a
rebuild. The ledger rows are written the way the aggregator writes them (tests/api/
ledger_state.py) with chosen commit times; the oracle is Decimal sums over the events as
listed here, with the rule spelt out in the test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from settlement_api.kit.known_at import knowledge_barrier, parse_known_at, snapshot_at
from settlement_api.progress.settled import SettledQuery, settled_amounts
from settlement_core.fx import FxTable
from settlement_core.problems import Problem
from settlement_core.rule_sets import record_rule_set
from settlement_core.rules import NO_RULES, rules_digest, rules_document, rules_from_document
from tests.api.ledger_state import Event, LedgerState

RMB, ECOM = "cross_border_rmb", "cross_border_ecommerce"
# The rule of seeds/targets.yaml that a rebuild brings in here: e-commerce in CNY with a
# foreign counterparty also counts toward cross-border RMB.
ECOM_RULE = {
    "home_country": "CN",
    "add": [
        {
            "rule_id": "ecom-cny-abroad",
            "target": RMB,
            "categories": [ECOM],
            "currencies": ["CNY"],
            "counterparty": "foreign",
            "direction": None,
        }
    ],
}
NONE = {"home_country": "CN", "add": []}
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def at(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


E1 = Event("bkX", "e1", ECOM, Decimal("100.00"), "CNY", date(2020, 3, 1), country="SG", processed_at=at(1))
E2 = Event("bkY", "e2", RMB, Decimal("50.00"), "CNY", date(2020, 4, 1), country="SG", processed_at=at(2))
E3 = Event("bkX", "e3", ECOM, Decimal("7.00"), "CNY", date(2020, 5, 1), country="SG", processed_at=at(4))
E4 = Event("bkY", "e4-late", RMB, Decimal("1.25"), "CNY", date(2020, 1, 5), country="SG", processed_at=at(6))
REVERSAL_OF_E1_AT = at(5)
RULE_CHANGE_AT = at(3)


@dataclass(frozen=True, slots=True)
class Expected:
    rmb: Decimal
    ecom: Decimal
    rmb_events: int
    ecom_events: int


def oracle(t: datetime) -> Expected:
    """What was known at t: events committed by t, minus those whose reversal was, counted
    with the rule in force at t (none before the rebuild, the e-commerce rule after)."""
    known = [e for e in (E1, E2, E3, E4) if e.processed_at <= t]
    if t >= REVERSAL_OF_E1_AT:
        known.remove(E1)
    rule = t >= RULE_CHANGE_AT
    rmb = [e for e in known if e.category == RMB or (rule and e.category == ECOM and e.currency == "CNY")]
    ecom = [e for e in known if e.category == ECOM]
    return Expected(
        sum((e.amount for e in rmb), Decimal(0)), sum((e.amount for e in ecom), Decimal(0)), len(rmb), len(ecom)
    )


@pytest.fixture(scope="module")
def state(isolated_env: dict[str, str]) -> Iterator[LedgerState]:
    ledger = LedgerState(isolated_env)
    yield ledger
    ledger.close()


def _record(state: LedgerState, document: Mapping[str, object], when: datetime, source: str) -> None:
    with state.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rule_sets (recorded_at, digest, document, source) VALUES (:t, :d, CAST(:doc AS jsonb), :s)"
            ),
            {"t": when, "d": bytes.fromhex(rules_digest(document)), "doc": json.dumps(document), "s": source},
        )


@pytest.mark.integration
def test_figures_at_several_knowledge_times_match_the_oracle(state: LedgerState) -> None:
    _record(state, NONE, at(0), "init")
    for event in (E1, E2, E3):
        state.count(event)
    _record(state, ECOM_RULE, RULE_CHANGE_AT, "rebuild")
    # The reversal's subtraction is committed at its own time, the late event after it.
    state.reverse(replace(E1, processed_at=REVERSAL_OF_E1_AT), "e1-r")
    state.count(E4)
    fx = FxTable([])
    checked = 0
    for minutes in (-1, 0.5, 1, 1.5, 2.5, 3, 3.5, 4.5, 5, 5.5, 6.5, 60):
        t = at(minutes)
        known = snapshot_at(state.engine, t, NO_RULES)
        queries = {
            RMB: SettledQuery(RMB, "CNY", date(2020, 1, 1), date(2020, 12, 31)),
            ECOM: SettledQuery(ECOM, "CNY", date(2020, 1, 1), date(2020, 12, 31)),
        }
        got = asyncio.run(settled_amounts(known.snapshot, fx, queries))
        expected = oracle(t)
        assert got[RMB].amounts.converted == expected.rmb, minutes
        assert got[ECOM].amounts.converted == expected.ecom, minutes
        assert (got[RMB].events_counted, got[ECOM].events_counted) == (expected.rmb_events, expected.ecom_events)
        checked += 1
    assert checked == 12
    # The cases the oracle separates are all there: the rule change moved e3 and e1.
    assert oracle(at(2.5)).rmb == Decimal("50.00")
    assert oracle(at(3.5)).rmb == Decimal("150.00")


@pytest.mark.integration
def test_a_rebuild_records_a_changed_rule_set_once(state: LedgerState) -> None:
    rules = rules_from_document(ECOM_RULE)
    assert rules_document(rules) == ECOM_RULE
    first = record_rule_set(state.engine, rules, "rebuild")
    assert not first.new, "the latest recorded set already counts with these rules"
    changed = record_rule_set(state.engine, rules_from_document(NONE), "rebuild")
    assert changed.new
    assert not record_rule_set(state.engine, rules, "init", first_only=True).new


@pytest.mark.integration
def test_the_barrier_is_the_server_time(state: LedgerState) -> None:
    before = datetime.now(UTC)
    barrier = knowledge_barrier(state.engine)
    assert before - timedelta(seconds=5) <= barrier <= datetime.now(UTC) + timedelta(seconds=5)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-01-15T08:00:00Z", datetime(2021, 1, 15, 8, tzinfo=UTC)),
        ("2021-01-15T16:00:00.5+08:00", datetime(2021, 1, 15, 8, 0, 0, 500000, tzinfo=UTC)),
        ("2021-01-15t08:00:00z", datetime(2021, 1, 15, 8, tzinfo=UTC)),
    ],
)
def test_rfc3339_timestamps_parse_to_utc(value: str, expected: datetime) -> None:
    assert parse_known_at(value) == expected


@pytest.mark.parametrize("value", ["2021-01-15", "2021-01-15T08:00:00", "2021-13-01T00:00:00Z", "１", "now", ""])
def test_anything_else_is_a_problem_pointing_at_known_at(value: str) -> None:
    with pytest.raises(Problem) as caught:
        parse_known_at(value)
    assert caught.value.status == 422
    assert [e.pointer for e in caught.value.errors] == ["#/query/known_at"]
