"""Read planning and evaluation over the bucket fields (kit/readmodel.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from settlement_api.kit.readmodel import Stream, evaluate, plan_reads
from tests.api.inputs import FX


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
