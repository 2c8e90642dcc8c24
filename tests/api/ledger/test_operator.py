"""The operator views: the league table and reporting completeness in working days (ledger/operator.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from settlement_api.ledger.operator import assess_bank, league_rows, silent_days_since
from settlement_api.ledger.repository import Activity, BankRow, TargetCounts
from settlement_core.business_days import LAST_YEAR
from settlement_core.catalogue import load_targets
from tests.conftest import ROOT

TARGETS = load_targets(ROOT / "seeds" / "targets.yaml")


def test_league_rows_rank_share_and_totals() -> None:
    stamp = datetime(2020, 5, 1, tzinfo=UTC)
    settled = {"b": Decimal("300.00"), "a": Decimal("300.00"), "c": Decimal("400.00"), "z": Decimal(0)}
    counts = {
        "a": TargetCounts(2, stamp),
        "b": TargetCounts(1, stamp),
        "c": TargetCounts(3, stamp),
        "q": TargetCounts(0, None),
    }
    total, rows = league_rows("CNY", settled, counts, {"a": "Bank A"})
    assert total == Decimal("1000.00")
    assert [(r.rank, r.bank_id) for r in rows] == [(1, "c"), (2, "a"), (3, "b")]  # ties by id; empty banks left out
    assert [r.share for r in rows] == ["0.400000", "0.300000", "0.300000"]
    assert rows[1].name == "Bank A"
    assert rows[2].name == "b"
    assert rows[0].events == 3


def test_league_rows_with_nothing_settled() -> None:
    total, rows = league_rows("CNY", {}, {}, {})
    assert total == 0
    assert rows == []


# ----------------------------------------------------------------------------- completeness
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Shanghai
TODAY = date(2026, 12, 3)


def test_a_bank_is_silent_after_n_business_days_without_events() -> None:
    bank = BankRow("b", "B", True)
    monday = Activity(datetime(2026, 11, 30, 3, 0, tzinfo=UTC), None, 5, 0)
    friday = Activity(datetime(2026, 11, 27, 3, 0, tzinfo=UTC), None, 5, 0)
    assert assess_bank(bank, monday, TODAY, "Asia/Shanghai", 3, Decimal("0.05")).business_days_silent == 3
    assert assess_bank(bank, monday, TODAY, "Asia/Shanghai", 3, Decimal("0.05")).silent is True
    assert assess_bank(bank, monday, TODAY, "Asia/Shanghai", 4, Decimal("0.05")).silent is False
    assert assess_bank(bank, friday, TODAY, "Asia/Shanghai", 4, Decimal("0.05")).business_days_silent == 4
    never = assess_bank(bank, None, TODAY, "Asia/Shanghai", 3, Decimal("0.05"))
    assert never.silent is True
    assert never.business_days_silent is None
    inactive = assess_bank(BankRow("x", "X", False), None, TODAY, "Asia/Shanghai", 3, Decimal("0.05"))
    assert inactive.silent is False


def test_silence_is_counted_in_working_days_of_chinas_calendar() -> None:
    # Last event on Thursday 2020-01-23 (Shanghai); the Spring Festival holiday, extended to
    # 2 February, leaves Monday 3 February as the only working day: Monday to Friday would
    # say 7 and flag the bank.
    bank = BankRow("b", "B", True)
    before_the_holiday = Activity(datetime(2020, 1, 23, 3, 0, tzinfo=UTC), None, 5, 0)
    assessed = assess_bank(bank, before_the_holiday, date(2020, 2, 3), "Asia/Shanghai", 3, Decimal("0.05"))
    assert assessed.business_days_silent == 1
    assert assessed.silent is False
    # Friday 2020-01-17 to Monday 01-20: the makeup Sunday 01-19 was a working day.
    assert silent_days_since(date(2020, 1, 17), date(2020, 1, 20)) == 2


def test_silence_beyond_the_calendar_counts_monday_to_friday(caplog: pytest.LogCaptureFixture) -> None:
    """A year without a notice in the calendar (2027 for chinese-calendar 1.11.0): the view
    answers with the Monday-to-Friday count instead of failing (OutsideCalendar, a 500
    without this fallback), and logs why."""
    last = date(LAST_YEAR, 12, 31)
    today = last + timedelta(days=7)
    expected = sum((last + timedelta(days=n)).weekday() < 5 for n in range(1, 8))
    assert expected == 5
    assert silent_days_since(last, today) == expected
    assert f"does not cover {LAST_YEAR + 1}-01-01" in caplog.text
    bank = BankRow("b", "B", True)
    activity = Activity(datetime(LAST_YEAR, 12, 31, 3, 0, tzinfo=UTC), None, 5, 0)
    assessed = assess_bank(bank, activity, today, "Asia/Shanghai", 3, Decimal("0.05"))
    assert assessed.business_days_silent == expected
    assert assessed.silent is True


def test_a_dlq_entry_counts_as_a_receipt_and_towards_the_rate() -> None:
    bank = BankRow("b", "B", True)
    activity = Activity(datetime(2026, 11, 1, tzinfo=UTC), NOW - timedelta(hours=1), 19, 1)
    row = assess_bank(bank, activity, TODAY, "Asia/Shanghai", 3, Decimal("0.05"))
    assert row.silent is False
    assert row.last_event_received == NOW - timedelta(hours=1)
    assert row.dlq_rate == "0.050000"
    assert row.dlq_rate_high is False  # strictly above the threshold
    high = assess_bank(bank, Activity(None, NOW, 18, 2), TODAY, "Asia/Shanghai", 3, Decimal("0.05"))
    assert high.dlq_rate == "0.100000"
    assert high.dlq_rate_high is True
