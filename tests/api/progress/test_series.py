"""A target's series: day and month points, cumulative sums, the pace line, query problems (progress/series.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from settlement_api.kit.bucket_store import Seen
from settlement_api.kit.disclosure import NOBODY, Contributors, Disclosure, Extent
from settlement_api.progress.series import (
    SeriesQuery,
    evaluate_target_series,
    expected_at,
    parse_series_query,
    plan_target_series,
    redact_series,
    render_series_csv,
    series_extents,
    window_for,
)
from settlement_core.buckets import Granularity
from settlement_core.catalogue import load_targets
from settlement_core.fx import FxRate, FxTable
from settlement_core.problems import Problem
from tests.conftest import ROOT

TARGETS = load_targets(ROOT / "seeds" / "targets.yaml")
RMB = next(t for t in TARGETS if t.code == "cross_border_rmb")
OFFSHORE = next(t for t in TARGETS if t.code == "offshore")
FX = FxTable([FxRate("USD", date(2020, 1, 1), Decimal("6.8976"), "t", False)])
PACE = Decimal("0.9")


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


def test_a_day_series_is_protected_month_by_month_with_its_running_totals() -> None:
    """Secondary suppression (kit/disclosure.py protect_curve) seen through redact_series:
    January has banks a, b, c on the 10th to 12th, February d alone on the 2nd. February
    is thin, so January is withheld with it (else the window total minus January gives
    February); the running totals between them go too, those before and after stay."""
    query = SeriesQuery(RMB, Granularity.DAY, date(2020, 2, 3))
    seen = Seen(frozenset({("cross_border_rmb", "CNY")}), frozenset())
    planned = plan_target_series(query, seen, FX)
    extents = series_extents([planned])
    assert extents[(0, 0, "window")] == Extent("cross_border_rmb", date(2020, 1, 1), date(2020, 2, 3))
    assert extents[(0, 1, "month")] == Extent("cross_border_rmb", date(2020, 2, 1), date(2020, 2, 3))
    banks = {date(2020, 1, 10): "a", date(2020, 1, 11): "b", date(2020, 1, 12): "c", date(2020, 2, 2): "d"}
    values = {f"c|cross_border_rmb|CNY|d|{day.isoformat()}": 100_00 for day in banks}
    out = evaluate_target_series(planned, values, PACE)
    current = [Contributors(frozenset(banks[p.start])) if p.start in banks else NOBODY for p in out.points]
    everyone = Contributors(frozenset("abcd"))
    months = [Contributors(frozenset("abc")), Contributors(frozenset("d"))]
    shown = redact_series(out, Disclosure(3, True), current, [NOBODY] * len(current), everyone, months)
    by_day = {p.start: p for p in shown.points}
    assert shown.settled == "400.00"
    assert by_day[date(2020, 1, 9)].cumulative == "0.00"  # nobody yet
    for day in banks:
        assert by_day[day].settled is None
    assert by_day[date(2020, 1, 10)].suppressed_reason == "fewer than 3 contributing banks"
    for day in (date(2020, 1, 10), date(2020, 1, 12), date(2020, 1, 31), date(2020, 2, 1)):
        assert by_day[day].cumulative is None, day
    assert by_day[date(2020, 1, 31)].settled == "0.00"  # an empty day reveals nobody
    assert by_day[date(2020, 1, 31)].suppressed_reason == (
        "withheld so that no figure of fewer than 3 banks can be derived by subtraction"
    )
    assert by_day[date(2020, 2, 2)].cumulative == "400.00"  # the total: nothing follows it
    # The operator's view is the series itself.
    assert redact_series(out, Disclosure.unrestricted(), current, [NOBODY] * len(current), everyone, months) == out
