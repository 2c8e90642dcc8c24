"""The demo feed's 2020 story: deterministic, and scaled to the outcomes it promises."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from settlement_core.catalogue import load_catalogue
from settlement_core.fx import FxTable, load_fx_csv
from settlement_ctl.demo_feed import DEMO_BANKS, OUTCOMES, REPORTING_BANKS, replay_events
from tests.conftest import ROOT

CATALOGUE = load_catalogue(ROOT / "seeds" / "targets.yaml")
TARGETS = CATALOGUE.targets_for(CATALOGUE.latest_period)
RULES = CATALOGUE.rules
FX = FxTable(load_fx_csv(ROOT / "seeds" / "fx_rates.csv"))


def year_totals(events: list[tuple[str, dict[str, str]]], year: int) -> dict[str, Decimal]:
    """Distinct events only (resends are duplicates), converted into the target currency, each
    toward every category the catalogue's rules count it toward (as the aggregator does)."""
    seen: set[tuple[str, str]] = set()
    totals: dict[str, Decimal] = defaultdict(Decimal)
    currency = {t.code: t.currency for t in TARGETS}
    for bank, body in events:
        if (bank, body["event_id"]) in seen or not body["value_date"].startswith(str(year)):
            continue
        seen.add((bank, body["event_id"]))
        day = date.fromisoformat(body["value_date"])
        toward = RULES.counts_toward(
            (body["category"],), body["currency"], body["counterparty_country"], body["direction"]
        )
        for code in toward:
            factor = FX.factor(body["currency"], currency[code], day)
            assert factor is not None
            totals[code] += Decimal(body["amount"]) * factor
    return totals


def test_the_replay_is_deterministic() -> None:
    assert replay_events(7, TARGETS, FX, 600, RULES) == replay_events(7, TARGETS, FX, 600, RULES)
    assert replay_events(7, TARGETS, FX, 600, RULES) != replay_events(8, TARGETS, FX, 600, RULES)


def test_2020_ends_where_the_story_says() -> None:
    events = replay_events(2020, TARGETS, FX, 3000, RULES)
    totals = year_totals(events, 2020)
    rmb = totals["cross_border_rmb"]
    # The reported 2020 actual, 1687亿元, up to the per-event rounding of the fen.
    assert abs(rmb - Decimal(168_700_000_000)) < Decimal(10)
    ratios = {t.code: totals[t.code] / t.amount for t in TARGETS}
    assert round(ratios["cross_border_rmb"], 2) == Decimal("0.28")
    assert sum(r >= 1 for r in ratios.values()) >= 1  # at least one achieved
    assert sum(r < 1 for r in ratios.values()) >= 1  # at least one missed
    for code, ratio in ratios.items():
        assert abs(ratio - OUTCOMES[code]) < Decimal("0.001"), code
    assert len({round(r, 2) for r in ratios.values()}) == len(ratios)  # varied outcomes
    # The rules really add to cross-border RMB here: its own events alone fall short of 1687亿元.
    own = sum(
        Decimal(b["amount"])
        for _, b in {(k, b["event_id"]): (k, b) for k, b in events}.values()
        if b["category"] == "cross_border_rmb" and b["value_date"].startswith("2020")
    )
    assert own < rmb - Decimal(10_000_000_000)


def test_history_and_banks() -> None:
    events = replay_events(2020, TARGETS, FX, 3000, RULES)
    assert year_totals(events, 2019)  # the monthly bars have a previous year
    banks = {bank for bank, _ in events}
    assert banks == {b.bank_id for b in REPORTING_BANKS}
    assert {b.bank_id for b in DEMO_BANKS} - banks == {"demo-silent"}  # registered, never reports
    ids = [(bank, body["event_id"]) for bank, body in events]
    assert len(ids) > len(set(ids))  # a few resent requests, counted once downstream
    first: dict[tuple[str, str], str] = {}
    for bank, body in events:
        first.setdefault((bank, body["event_id"]), body["value_date"])
    days = list(first.values())
    assert days == sorted(days)  # the year unfolds in order (resends repeat an earlier event)
