"""Pure logic of the series, the operator views and the report (no I/O)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from settlement_api.kit.bucket_store import Seen
from settlement_api.ledger.operator import assess_bank, league_rows, silent_days_since
from settlement_api.ledger.repository import Activity, BankRow, TargetCounts
from settlement_api.ledger.schemas import LeagueOut, LeagueTargetOut
from settlement_api.progress.period_report import month_rows, parse_report_query, render_csv, render_xlsx
from settlement_api.progress.series import (
    SeriesQuery,
    evaluate_target_series,
    expected_at,
    parse_series_query,
    plan_target_series,
    render_series_csv,
    window_for,
)
from settlement_core.buckets import Granularity
from settlement_core.business_days import LAST_YEAR
from settlement_core.catalogue import load_targets
from settlement_core.fx import FxRate, FxTable
from settlement_core.problems import Problem
from tests.conftest import ROOT

TARGETS = load_targets(ROOT / "seeds" / "targets.yaml")
RMB = next(t for t in TARGETS if t.code == "cross_border_rmb")
OFFSHORE = next(t for t in TARGETS if t.code == "offshore")
FX = FxTable([FxRate("USD", date(2020, 1, 1), Decimal("6.8976"), "t", False)])
PACE = Decimal("0.9")


# ----------------------------------------------------------------------------- series
def test_day_points_read_one_day_field_each_and_stop_at_as_of() -> None:
    query = SeriesQuery(RMB, Granularity.DAY, date(2020, 1, 3))
    planned = plan_target_series(query, Seen(frozenset({("cross_border_rmb", "CNY")}), frozenset()), FX)
    assert len(planned.points) == 366
    assert planned.fields == [f"c|cross_border_rmb|CNY|d|2020-01-0{d}" for d in (1, 2, 3)]
    assert planned.points[3].current is None


def test_month_points_clip_at_as_of_and_read_the_previous_year() -> None:
    query = SeriesQuery(RMB, Granularity.MONTH, date(2020, 2, 10))
    planned = plan_target_series(query, Seen(frozenset({("cross_border_rmb", "CNY")}), frozenset()), FX)
    assert len(planned.points) == 12
    feb = planned.points[1]
    assert feb.current is not None
    assert feb.current.fields == [f"c|cross_border_rmb|CNY|d|2020-02-{d:02d}" for d in range(1, 11)]
    assert feb.previous is not None
    assert feb.previous.fields == ["c|cross_border_rmb|CNY|m|2019-02"]
    assert planned.points[2].current is None
    assert planned.points[11].previous is not None


def test_cumulative_is_the_running_sum_of_rounded_points() -> None:
    query = SeriesQuery(OFFSHORE, Granularity.DAY, date(2020, 1, 3))
    seen = Seen(frozenset({("offshore", "CNY")}), frozenset())
    planned = plan_target_series(query, seen, FX)
    # 0.04 CNY each day is 0.0058 USD, rounded per point to 0.01: the curve shows the points.
    values = {f"c|offshore|CNY|d|2020-01-0{d}": 4 for d in (1, 2, 3)}
    out = evaluate_target_series(planned, values, PACE)
    assert [p.settled for p in out.points[:4]] == ["0.01", "0.01", "0.01", None]
    assert [p.cumulative for p in out.points[:3]] == ["0.01", "0.02", "0.03"]
    assert out.settled == "0.03"
    assert out.as_of == date(2020, 1, 3)
    assert out.expected_ratio == str((Decimal(3) / 366).quantize(Decimal("0.000001")))
    csv_lines = render_series_csv(out).splitlines()
    assert csv_lines[1] == "2020-01-01,2020-01-01,2020-01-01,USD,0.01,0.01,1639344262.30,"
    assert csv_lines[4] == "2020-01-04,2020-01-04,2020-01-04,USD,,,6557377049.18,"


def test_pace_line() -> None:
    assert expected_at(RMB, date(2019, 12, 31)) == Decimal("0.00")
    assert expected_at(RMB, date(2020, 1, 1)) == Decimal("1639344262.30")  # 6000亿 / 366
    assert expected_at(RMB, date(2020, 12, 31)) == Decimal("600000000000.00")
    assert expected_at(RMB, date(2021, 6, 1)) == Decimal("600000000000.00")


def test_a_closed_window_below_target_reads_missed_after_it() -> None:
    query = SeriesQuery(RMB, Granularity.MONTH, date(2026, 1, 1))
    planned = plan_target_series(query, Seen(frozenset({("cross_border_rmb", "CNY")}), frozenset()), FX)
    out = evaluate_target_series(planned, {"c|cross_border_rmb|CNY|m|2020-12": 100}, PACE)
    assert out.as_of == date(2020, 12, 31)
    assert out.status == "missed"
    assert out.settled == "1.00"


@pytest.mark.parametrize(
    ("code", "params", "status", "pointer"),
    [
        ("nope", {}, 404, "#/path/code"),
        ("offshore", {"period": "2019"}, 404, "#/query/period"),
        ("offshore", {"period": "2020x"}, 422, "#/query/period"),
        ("offshore", {"granularity": "year"}, 422, "#/query/granularity"),
        ("offshore", {"as_of": "20200101"}, 422, "#/query/as_of"),
    ],
)
def test_series_query_problems(code: str, params: dict[str, str], status: int, pointer: str) -> None:
    with pytest.raises(Problem) as caught:
        parse_series_query(
            TARGETS,
            code,
            period=params.get("period"),
            granularity=params.get("granularity"),
            as_of=params.get("as_of"),
            today=date(2026, 1, 1),
        )
    assert caught.value.status == status
    assert [e.pointer for e in caught.value.errors] == [pointer]


def test_series_query_defaults() -> None:
    query = parse_series_query(TARGETS, "offshore", period=None, granularity=None, as_of=None, today=date(2026, 1, 1))
    assert query.granularity is Granularity.DAY
    assert query.as_of == date(2026, 1, 1)
    assert query.capped == date(2020, 12, 31)
    assert window_for(TARGETS, "offshore", 2020) is OFFSHORE


# ----------------------------------------------------------------------------- league table
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


# ----------------------------------------------------------------------------- report
def test_report_query() -> None:
    query = parse_report_query(TARGETS, period="2020", fmt=None, as_of=date(2026, 1, 1))
    assert query.format == "xlsx"
    assert [q.target.code for q in query.series] == [t.code for t in TARGETS]
    assert all(q.granularity is Granularity.MONTH for q in query.series)
    with pytest.raises(Problem) as caught:
        parse_report_query(TARGETS, period="2021", fmt="csv", as_of=date(2026, 1, 1))
    assert caught.value.status == 404
    with pytest.raises(Problem) as bad:
        parse_report_query(TARGETS, period="x", fmt="pdf", as_of=date(2026, 1, 1))
    assert [e.pointer for e in bad.value.errors] == ["#/query/period", "#/query/format"]
    with pytest.raises(Problem) as empty:  # schemathesis found ?format= answered with an xlsx
        parse_report_query(TARGETS, period="2020", fmt="", as_of=date(2026, 1, 1))
    assert [e.pointer for e in empty.value.errors] == ["#/query/format"]


def test_xlsx_holds_exact_amounts() -> None:
    query = SeriesQuery(RMB, Granularity.MONTH, date(2020, 2, 15))
    planned = plan_target_series(query, Seen(frozenset({("cross_border_rmb", "CNY")}), frozenset()), FX)
    values = {"c|cross_border_rmb|CNY|m|2020-01": 123456789012345, "c|cross_border_rmb|CNY|d|2020-02-03": 1}
    series = evaluate_target_series(planned, values, PACE)
    rows = month_rows(series)
    assert [(r.month, r.settled, r.ytd) for r in rows] == [
        ("2020-01", Decimal("1234567890123.45"), Decimal("1234567890123.45")),
        ("2020-02", Decimal("0.01"), Decimal("1234567890123.46")),
    ]
    league = LeagueOut(
        as_of=date(2020, 2, 15),
        targets=[
            LeagueTargetOut(
                code="cross_border_rmb",
                name_zh="z",
                name_en="e",
                currency="CNY",
                plan_unit="亿元",
                as_of=date(2020, 2, 15),
                settled="0.00",
                settled_plan_unit="0.0000",
                banks=[],
            )
        ],
    )
    book = load_workbook(io.BytesIO(render_xlsx(2020, [series], league)))
    assert book.sheetnames == ["cross_border_rmb", "banks"]
    sheet = book["cross_border_rmb"]
    assert [c.value for c in sheet[2]] == ["month", "settled", "ytd", "target", "ratio"]
    assert Decimal(str(sheet["C4"].value)) == Decimal("1234567890123.46")
    assert sheet["B3"].number_format == "#,##0.00"
    assert (
        render_csv([series]).splitlines()[2]
        == "cross_border_rmb,CNY,2020-02,0.01,1234567890123.46,600000000000.00,2.057613"
    )


def test_amounts_without_a_rate_are_reported_not_counted() -> None:
    query = SeriesQuery(OFFSHORE, Granularity.MONTH, date(2020, 3, 31))
    seen = Seen(frozenset({("offshore", "USD"), ("offshore", "CHF")}), frozenset())
    planned = plan_target_series(query, seen, FX)
    values = {"c|offshore|USD|m|2020-02": 500, "c|offshore|CHF|m|2020-02": 1234, "c|offshore|CHF|m|2020-03": 1}
    out = evaluate_target_series(planned, values, PACE)
    assert out.settled == "5.00"
    assert out.unconverted == {"CHF": "12.35"}
