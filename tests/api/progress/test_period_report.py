"""The period report: its query, exact amounts in the xlsx, amounts without a rate (progress/period_report.py)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from settlement_api.kit.bucket_store import Seen
from settlement_api.ledger.schemas import LeagueOut, LeagueTargetOut
from settlement_api.progress.period_report import month_rows, parse_report_query, render_csv, render_xlsx
from settlement_api.progress.series import (
    SeriesQuery,
    evaluate_target_series,
    plan_target_series,
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
