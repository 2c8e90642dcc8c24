"""Pure logic of the API: read planning, validation, caching, status mapping, metrics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from settlement_api.kit.bucket_store import Seen
from settlement_api.kit.http_cache import etag_for, matches
from settlement_api.kit.plan_units import in_plan_unit
from settlement_api.kit.readmodel import Amounts, Stream, evaluate, plan_reads
from settlement_api.ledger.events import classify
from settlement_api.ledger.schemas import EventStatus
from settlement_api.metrics.collector import (
    PUBLIC,
    RESTRICTED,
    BankGauge,
    BuildInfo,
    BusinessCollector,
    BusinessSnapshot,
    DistinctGauge,
    RollingGauge,
    TargetGauges,
    rolling_fields,
)
from settlement_api.progress.schemas import DistinctVolumeOut, ProgressOut
from settlement_api.progress.service import report_queries, target_progress, year_earlier
from settlement_api.progress.settled import Settled
from settlement_api.security import Reader, is_per_bank_read, scoped_bank
from settlement_api.settings import ApiSettings
from settlement_api.totals.service import (
    evaluate_series,
    parse_totals_query,
    plan_series,
    point_count,
    render_csv,
)
from settlement_api.web.routes import embed
from settlement_core.auth import Principal
from settlement_core.buckets import Granularity, series_periods
from settlement_core.catalogue import load_targets
from settlement_core.db.models import DlqEvent, LedgerEvent
from settlement_core.fx import FxRate, FxTable
from settlement_core.problems import Problem
from tests.conftest import ROOT

TARGETS = load_targets(ROOT / "seeds" / "targets.yaml")
FX = FxTable(
    [
        FxRate("USD", date(2019, 1, 1), Decimal("6.8985"), "t", False),
        FxRate("USD", date(2020, 1, 1), Decimal("6.8976"), "t", False),
    ]
)


def settings(**overrides: object) -> ApiSettings:
    base: dict[str, object] = {
        "database_url": "postgresql+psycopg://x/y",
        "redis_url": "redis://x",
        "kafka_bootstrap": "x:1",
        "targets_file": Path("t.yaml"),
    }
    return ApiSettings(**{**base, **overrides})  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- read planning
def test_a_whole_year_reads_one_field_per_stream() -> None:
    planned = plan_reads(
        [Stream("offshore", "CNY"), Stream("offshore", "USD")], date(2020, 1, 1), date(2020, 12, 31), "USD", FX
    )
    assert sorted(planned.fields) == ["c|offshore|CNY|y|2020", "c|offshore|USD|y|2020"]


def test_field_count_depends_on_the_range_not_the_history() -> None:
    # A long range costs at most ~ (years + 2*11 months + 2*30 days) fields per stream.
    planned = plan_reads([Stream("offshore", "USD")], date(2011, 1, 15), date(2026, 11, 20), "USD", FX)
    assert len(planned.fields) < 16 + 22 + 60


def test_fx_change_splits_the_cover_and_missing_rates_are_unconverted() -> None:
    stream = Stream("offshore", "USD")
    planned = plan_reads([stream, Stream("offshore", "CHF")], date(2019, 12, 1), date(2020, 1, 31), "CNY", FX)
    factors = [(p.stream.currency, p.factor, p.fields) for p in planned.pieces]
    assert factors[0] == ("USD", Decimal("6.8985"), ("c|offshore|USD|m|2019-12",))
    assert factors[1] == ("USD", Decimal("6.8976"), ("c|offshore|USD|m|2020-01",))
    assert factors[2][0] == "CHF"
    assert factors[2][1] is None
    values = {"c|offshore|USD|m|2019-12": 100, "c|offshore|USD|m|2020-01": 200, "c|offshore|CHF|m|2019-12": 5000}
    amounts = evaluate(planned, values, "CNY")
    assert amounts.converted_exact == Decimal("6.8985") + Decimal("2") * Decimal("6.8976")
    assert amounts.converted == Decimal("20.69")  # 20.6937, rounded once
    assert amounts.native_minor == {"USD": 300, "CHF": 5000}
    assert amounts.unconverted() == {"CHF": Decimal("50.00")}


def test_conversion_rounds_once_half_even() -> None:
    planned = plan_reads([Stream("offshore", "CNY")], date(2020, 1, 1), date(2020, 1, 2), "USD", FX)
    assert len(planned.fields) == 2
    values = {name: 4 for name in planned.fields}  # 0.04 CNY on each of two days
    amounts = evaluate(planned, values, "USD")
    # Per day 0.04 / 6.8976 = 0.0058 would round to 0.01 twice (0.02); rounded once, the
    # exact sum 0.0116 is 0.01.
    assert amounts.converted == Decimal("0.01")


def test_bank_streams_read_bank_fields() -> None:
    planned = plan_reads([Stream("offshore", "USD", "bankA")], date(2020, 3, 1), date(2020, 3, 31), "USD", FX)
    assert planned.fields == ["b|bankA|offshore|USD|m|2020-03"]


# ----------------------------------------------------------------------------- totals queries
@pytest.mark.parametrize("grain", list(Granularity))
@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2020, 1, 1), date(2020, 1, 1)),
        (date(2019, 12, 31), date(2020, 1, 1)),
        (date(2020, 2, 15), date(2023, 7, 3)),
        (date(2020, 1, 1), date(2020, 12, 31)),
    ],
)
def test_point_count_matches_series(grain: Granularity, start: date, end: date) -> None:
    assert point_count(start, end, grain) == len(series_periods(start, end, grain))


def _parse(**raw: str | None) -> object:
    params: dict[str, str | None] = {
        "category": None,
        "granularity": None,
        "start": None,
        "end": None,
        "currency": None,
        "bank_id": None,
    }
    params.update(raw)
    return parse_totals_query(TARGETS, settings(), **params)


def test_totals_defaults_to_the_target_window_and_currency() -> None:
    query = _parse(category="offshore")
    assert query == parse_totals_query(
        TARGETS,
        settings(),
        category="offshore",
        granularity="month",
        start="2020-01-01",
        end="2020-12-31",
        currency="USD",
        bank_id=None,
    )


@pytest.mark.parametrize(
    ("grain", "end", "ok"),
    [
        ("day", "2021-12-31", True),  # 731 days: the cap
        ("day", "2022-01-01", False),
        ("month", "2039-12-31", True),  # 240 months
        ("month", "2040-01-01", False),
        ("year", "2069-12-31", True),  # 50 years
        ("year", "2070-01-01", False),
    ],
)
def test_range_caps(grain: str, end: str, ok: bool) -> None:
    if ok:
        _parse(granularity=grain, start="2020-01-01", end=end)
        return
    with pytest.raises(Problem) as caught:
        _parse(granularity=grain, start="2020-01-01", end=end)
    assert caught.value.slug == "range-too-large"
    assert caught.value.errors[0].pointer == "#/query/to"


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        ({"start": "2020-1-1"}, "#/query/from"),
        ({"end": "2020-02-30"}, "#/query/to"),
        ({"category": "nope"}, "#/query/category"),
        ({"granularity": "week"}, "#/query/granularity"),
        ({"currency": "usd"}, "#/query/currency"),
        ({"start": "2020-02-01", "end": "2020-01-31"}, "#/query/from"),
    ],
)
def test_bad_parameters(raw: dict[str, str], pointer: str) -> None:
    with pytest.raises(Problem) as caught:
        _parse(**raw)
    assert caught.value.status == 422
    assert [e.pointer for e in caught.value.errors] == [pointer]


def test_series_sum_equals_total_even_with_rounding() -> None:
    query = parse_totals_query(
        TARGETS,
        settings(),
        category="offshore",
        granularity="day",
        start="2020-01-01",
        end="2020-01-10",
        currency="USD",
        bank_id=None,
    )
    seen = Seen(frozenset({("offshore", "CNY"), ("offshore", "USD")}), frozenset())
    series = plan_series(query, seen, FX)
    values = {name: 333 for name in series.fields}  # 3.33 per day, CNY needs conversion
    totals = evaluate_series(series, values)
    assert len(totals.points) == 10
    assert sum(Decimal(p.amount) for p in totals.points) == Decimal(totals.total.amount)
    assert totals.total.by_currency == {"CNY": "33.30", "USD": "33.30"}
    text = render_csv(totals)
    lines = text.splitlines()
    assert lines[0] == "period,from,to,currency,amount,amount_CNY,amount_USD"
    assert lines[1].startswith("2020-01-01,2020-01-01,2020-01-01,USD,")
    assert len(lines) == 11


# ----------------------------------------------------------------------------- progress
def _target(code: str) -> object:
    return next(t for t in TARGETS if t.code == code)


def test_progress_row_closed_window_and_plan_units() -> None:
    target = next(t for t in TARGETS if t.code == "cross_border_rmb")
    amounts = Amounts("CNY", Decimal("300000000000.00"), {"CNY": 30_000_000_000_000}, {})
    row = target_progress(target, Settled(amounts, 7), date(2026, 1, 1), Decimal("0.9"))
    assert row.as_of == date(2020, 12, 31)
    assert row.settled_plan_unit == "3000.0000"
    assert row.target_amount_plan_unit == "6000.0000"
    assert row.progress_ratio == "0.500000"
    assert row.status == "missed"  # the window has closed short of the target
    mid = target_progress(target, Settled(amounts, 7), date(2020, 6, 30), Decimal("0.9"))
    assert mid.status == "on_track"
    assert mid.pace is not None
    assert Decimal(mid.pace) > 1


def test_plan_unit_rounding() -> None:
    assert in_plan_unit(Decimal("123456789012.34")) == "1234.5679"
    assert in_plan_unit(Decimal(0)) == "0.0000"


# ----------------------------------------------------------------------------- http, auth
def test_if_none_match() -> None:
    tag = etag_for(b"body")
    assert matches(tag, tag)
    assert matches(f'"x", W/{tag}', tag)
    assert matches("*", tag)
    assert not matches('"other"', tag)
    assert not matches(None, tag)
    assert etag_for(b"body") != etag_for(b"body2")


def _reader(kind: str, ident: str) -> Reader:
    return Reader(Principal(kind, ident, 1, 1))  # type: ignore[arg-type]


def test_bank_scope_matrix() -> None:
    bank_a, operator = _reader("bank", "bankA"), _reader("operator", "ops")
    assert scoped_bank(bank_a, None) == "bankA"
    assert scoped_bank(bank_a, "bankA") == "bankA"
    with pytest.raises(Problem) as caught:
        scoped_bank(bank_a, "bankB")
    assert caught.value.status == 404
    assert scoped_bank(operator, None) is None
    assert scoped_bank(operator, "bankB") == "bankB"
    with pytest.raises(Problem) as anonymous:
        scoped_bank(Reader(None), None)
    assert anonymous.value.status == 401


@pytest.mark.parametrize(
    ("path", "query", "audited"),
    [
        ("/v1/banks/B1/totals", [], True),
        ("/v1/events/E1", ["bank_id"], True),
        ("/v1/operator/league", [], True),
        ("/v1/operator/completeness", [], True),
        ("/v1/report", ["period", "format"], True),
        ("/v1/totals", ["bank_id", "category"], True),
        ("/v1/totals", ["category"], False),
        ("/v1/progress", [], False),
        ("/v1/audit", [], False),
    ],
)
def test_operator_reads_of_per_bank_data_are_the_audited_ones(path: str, query: list[str], audited: bool) -> None:
    assert is_per_bank_read(path, query) is audited


def _ledger(status: str) -> LedgerEvent:
    return LedgerEvent(status=status)


@pytest.mark.parametrize(
    ("ledger", "reasons", "expected"),
    [
        ("counted", [], EventStatus.COUNTED),
        ("reversed", [], EventStatus.REVERSED),
        ("reversal_applied", [], EventStatus.COUNTED),
        ("reversal_rejected", ["reversal_mismatch"], EventStatus.DLQ),
        ("counted", ["conflicting_duplicate"], EventStatus.COUNTED),
        (None, ["conflicting_duplicate"], EventStatus.DUPLICATE),
        (None, ["schema"], EventStatus.DLQ),
        (None, [], EventStatus.UNKNOWN),
    ],
)
def test_event_classification(ledger: str | None, reasons: list[str], expected: EventStatus) -> None:
    rows = [DlqEvent(reason=r) for r in reasons]
    assert classify(_ledger(ledger) if ledger else None, rows) is expected


def test_embedded_json_cannot_close_the_script() -> None:
    progress = ProgressOut(
        as_of=date(2020, 1, 1),
        period="2020",
        periods=["2020"],
        timezone="</script><b>",
        on_track_pace="0.9",
        targets=[],
        distinct_volume=DistinctVolumeOut(
            currency="CNY",
            window_start=date(2020, 1, 1),
            as_of=date(2020, 1, 1),
            amount="0.00",
            amount_plan_unit="0.0000",
            by_currency={},
            unconverted={},
            events_counted=0,
        ),
    )
    html = embed("<script>__INITIAL_PROGRESS__</script>", progress)
    assert html.count("</script>") == 1


# ----------------------------------------------------------------------------- metrics
def _scrape(snapshot: BusinessSnapshot | None, audience: str = PUBLIC) -> dict[str, list[tuple[dict[str, str], float]]]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BusinessCollector(snapshot, BuildInfo("1.2.3", "abc"), audience))
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_collector_families_and_labels() -> None:
    snapshot = BusinessSnapshot(
        targets=(
            TargetGauges("offshore", "2020", "USD", 6e11, 12.5, 1.0, 3, (("CNY", 0.0),)),
            TargetGauges("cross_border_rmb", "2020", "CNY", 6e11, 99.0, 0.5, 1, ()),
        ),
        rolling=(RollingGauge("offshore", "USD", "24h", 1.0), RollingGauge("cross_border_rmb", "CNY", "7d", 2.0)),
        banks=(BankGauge("bankA", "cross_border_rmb", 99.0),),
        distinct=DistinctGauge("2020", 150.0, 4),
    )
    found = _scrape(snapshot)
    assert found["settlement_settled_usd"] == [({"target": "offshore", "period": "2020"}, 12.5)]
    assert found["settlement_settled_cny"] == [({"target": "cross_border_rmb", "period": "2020"}, 99.0)]
    assert found["settlement_target_usd"] == [({"target": "offshore", "period": "2020"}, 6e11)]
    assert found["settlement_expected_ratio"][1] == ({"target": "cross_border_rmb", "period": "2020"}, 0.5)
    assert found["settlement_unconverted_amount"] == [
        ({"target": "offshore", "period": "2020", "currency": "CNY"}, 0.0)
    ]
    assert found["settlement_distinct_volume_cny"] == [({"period": "2020"}, 150.0)]
    assert found["settlement_distinct_events_counted"] == [({"period": "2020"}, 4.0)]
    assert found["settlement_rolling_settled_usd"] == [({"target": "offshore", "window": "24h"}, 1.0)]
    # Per-bank series are on /metrics/banks (the restricted audience) only.
    assert not any("bank" in labels for samples in found.values() for labels, _ in samples)
    restricted = _scrape(snapshot, RESTRICTED)
    assert restricted["settlement_bank_settled_cny"] == [({"bank": "bankA", "target": "cross_border_rmb"}, 99.0)]
    assert found["settlement_build_info"] == [({"version": "1.2.3", "commit": "abc"}, 1.0)]
    assert found["settlement_business_metrics_up"] == [({}, 1.0)]


def test_collector_moves_thin_targets_to_the_restricted_audience() -> None:
    snapshot = BusinessSnapshot(
        targets=(
            TargetGauges("offshore", "2020", "USD", 6e11, 12.5, 1.0, 3, ()),
            TargetGauges("cross_border_rmb", "2020", "CNY", 6e11, 99.0, 0.5, 1, ()),
        ),
        rolling=(RollingGauge("cross_border_rmb", "CNY", "7d", 2.0),),
        banks=(),
        distinct=DistinctGauge("2020", 150.0, 4),
        thin=frozenset({"cross_border_rmb", "*"}),
    )
    public, restricted = _scrape(snapshot), _scrape(snapshot, RESTRICTED)
    assert "settlement_settled_cny" not in public
    assert "settlement_distinct_volume_cny" not in public
    assert "settlement_rolling_settled_cny" not in public
    assert public["settlement_settled_usd"] == [({"target": "offshore", "period": "2020"}, 12.5)]
    assert ({"target": "cross_border_rmb", "period": "2020"}, 1.0) in public["settlement_disclosure_suppressed"]
    assert ({"target": "offshore", "period": "2020"}, 0.0) in public["settlement_disclosure_suppressed"]
    assert restricted["settlement_settled_cny"] == [({"target": "cross_border_rmb", "period": "2020"}, 99.0)]
    assert restricted["settlement_distinct_volume_cny"] == [({"period": "2020"}, 150.0)]
    assert "settlement_settled_usd" not in restricted


def test_collector_without_redis() -> None:
    found = _scrape(None)
    assert found["settlement_business_metrics_up"] == [({}, 0.0)]
    assert "settlement_settled_cny" not in found


def test_rolling_fields_cover_trailing_hours_in_utc() -> None:
    seen = Seen(frozenset({("offshore", "USD")}), frozenset())
    now = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)
    fields = rolling_fields(seen, ["offshore", "factor_market"], now, 24)
    names = fields[("offshore", "USD")]
    assert len(names) == 24
    assert names[0] == "h|offshore|USD|2026113006"
    assert names[-1] == "h|offshore|USD|" + (now - timedelta(hours=23)).strftime("%Y%m%d%H")
    assert ("factor_market", "USD") not in fields


# ----------------------------------------------------------------------------- periods
def test_previous_period_and_change() -> None:
    target = _target("cross_border_rmb")
    now = Settled(Amounts("CNY", Decimal("150.00"), {"CNY": 15000}, {}), 2)
    before = Settled(Amounts("CNY", Decimal("100.00"), {"CNY": 10000}, {}), 1)
    row = target_progress(target, now, date(2020, 6, 30), Decimal("0.9"), before)  # type: ignore[arg-type]
    assert (row.previous_period_settled, row.change, row.change_ratio) == ("100.00", "50.00", "0.500000")
    alone = target_progress(target, now, date(2020, 6, 30), Decimal("0.9"))  # type: ignore[arg-type]
    assert (alone.previous_period_settled, alone.change, alone.change_ratio) == (None, None, None)
    zero = Settled(Amounts("CNY", Decimal(0), {}, {}), 0)
    assert target_progress(target, now, date(2020, 6, 30), Decimal("0.9"), zero).change_ratio is None  # type: ignore[arg-type]


def test_report_queries_cover_the_window_the_year_before_and_the_distinct_volume() -> None:
    queries = report_queries(TARGETS, date(2020, 2, 29))
    rmb = queries["cross_border_rmb"]
    assert (rmb.start, rmb.end, rmb.currency) == (date(2020, 1, 1), date(2020, 2, 29), "CNY")
    previous = queries["cross_border_rmb:previous"]
    assert (previous.start, previous.end) == (date(2019, 1, 1), date(2019, 2, 28))
    assert queries["offshore"].currency == "USD"
    distinct = queries["*"]
    assert (distinct.category, distinct.currency, distinct.start, distinct.end) == (
        "*",
        "CNY",
        date(2020, 1, 1),
        date(2020, 2, 29),
    )
    after = report_queries(TARGETS, date(2021, 1, 5))
    assert after["*"].end == date(2020, 12, 31)  # capped at the period's window end
    assert year_earlier(date(2021, 3, 1)) == date(2020, 3, 1)
    assert year_earlier(date(1, 6, 1)) == date.min  # as_of=0001-01-01 once answered 500
