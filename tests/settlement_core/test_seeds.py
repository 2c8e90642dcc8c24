"""The seed files against their sources: the plan text and the NBS annual average rates.

The plan text is read from PLAN_TEXT_FILE (default: the shared copy of the 2016 Chongqing
financial plan); the plan-text checks are skipped when that file is not present.
"""

from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from settlement_core.catalogue import PLAN_UNIT_LABEL, ReferenceKind, Target, load_catalogue, load_targets
from settlement_core.fx import FxTable, load_fx_csv
from settlement_core.money import to_minor
from tests.plan_catalogue import CODES

ROOT = Path(__file__).resolve().parents[2]
TARGETS_FILE = ROOT / "seeds" / "targets.yaml"
FX_FILE = ROOT / "seeds" / "fx_rates.csv"
PLAN_FILE = Path(os.environ.get("PLAN_TEXT_FILE", "/work/shared/seeds/000_11d7a3519afc91b6.txt"))

UNITS = {"万亿": 10**12, "亿": 10**8}  # checked longest first
CURRENCY_OF_LABEL = {"元": "CNY", "美元": "USD"}
DISPLAY = re.compile(r"(?P<number>[1-9][0-9]*)(?P<unit>万亿|亿)(?P<label>元|美元)")

# NBS statistical communiques on national economic and social development: annual average
# RMB per USD.
NBS_USD = {2016: "6.6423", 2017: "6.7518", 2018: "6.6174", 2019: "6.8985", 2020: "6.8976"}


def squash(text: str) -> str:
    """Whitespace-normalised text: the PDF extraction scatters spaces (e.g. "到 2020年")."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def targets() -> tuple[Target, ...]:
    return load_targets(TARGETS_FILE)


@pytest.fixture(scope="module")
def plan() -> str:
    if not PLAN_FILE.is_file():
        pytest.skip(f"plan text not available at {PLAN_FILE} (set PLAN_TEXT_FILE)")
    return PLAN_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def settlement_part(plan: str) -> str:
    """Chapter 3, section 3, part 1 "发展特色金融结算服务", up to part 2."""
    text = squash(plan)
    start = text.index("第三节健全金融基础设施体系")
    part1 = text.index("一、发展特色金融结算服务", start)
    part2 = text.index("二、健全支付结算体系", part1)
    return text[part1:part2]


# ---------------------------------------------------------------- targets.yaml vs the plan


@pytest.mark.parametrize("code", CODES)
def test_source_is_quoted_verbatim_from_part_1(targets: tuple[Target, ...], settlement_part: str, code: str) -> None:
    target = next(t for t in targets if t.code == code)
    assert squash(target.source) in settlement_part
    # The quote is the closing sentence of the paragraph the target is named after.
    paragraph = settlement_part.split(squash(target.name_zh) + "。", 1)[1]
    paragraph = paragraph.split("。到2020年", 1)[1].split("。", 1)[0]
    assert squash(target.source) == "到2020年" + paragraph + "。"


def test_plan_part_has_exactly_six_2020_settlement_targets(settlement_part: str) -> None:
    goals = re.findall(r"到2020年，[^。]*?结算规模(?:达到|突破)[^。]*。", settlement_part)
    assert len(goals) == 6


def test_windows_are_the_calendar_year_2020_per_note_1(targets: tuple[Target, ...], plan: str) -> None:
    # 专栏1 note 1: absolute economic indicators are the figures of that year.
    assert "1．经济指标绝对数为当年数" in squash(plan)
    for target in targets:
        assert (target.window_start, target.window_end) == (date(2020, 1, 1), date(2020, 12, 31))
        assert "到2020年" in squash(target.source)


@pytest.mark.parametrize("code", CODES)
def test_display_times_unit_equals_amount(targets: tuple[Target, ...], code: str) -> None:
    target = next(t for t in targets if t.code == code)
    match = DISPLAY.fullmatch(target.display)
    assert match, target.display
    assert int(match["number"]) * UNITS[match["unit"]] == target.amount
    assert CURRENCY_OF_LABEL[match["label"]] == target.currency
    assert target.display.endswith(PLAN_UNIT_LABEL[target.currency])
    # The display is the figure in the quote, and the quote has no other figure.
    assert re.findall(r"[0-9]+(?:万亿|亿)(?:元|美元)", squash(target.source)) == [target.display]
    # The amount is whole currency units and maps exactly to minor units.
    assert to_minor(Decimal(target.amount), target.currency) == target.amount * 100


def test_baselines_are_the_plans_own_figures_quoted_verbatim(plan: str) -> None:
    # 第一章: the 12th five-year period's figures (not targets), each shown as the plan says it.
    baselines = [r for r in load_catalogue(TARGETS_FILE).references if r.kind is ReferenceKind.BASELINE]
    assert {(r.code, r.display) for r in baselines} == {("offshore", "3687亿美元"), ("cross_border_rmb", "5000亿元")}
    for ref in baselines:
        quote = squash(ref.source).split("（")[0]
        assert quote in squash(plan)
        assert ref.display in quote
        match = DISPLAY.fullmatch(ref.display)
        assert match
        assert int(match["number"]) * UNITS[match["unit"]] == ref.amount
        assert CURRENCY_OF_LABEL[match["label"]] == ref.currency


def test_unit_table() -> None:
    assert UNITS["万亿"] == 10**4 * UNITS["亿"]


# ---------------------------------------------------------------- fx_rates.csv


@pytest.fixture(scope="module")
def fx_rows() -> list[tuple[str, date, Decimal, str, bool]]:
    return [(r.currency, r.valid_from, r.cny_per_unit, r.source, r.sample) for r in load_fx_csv(FX_FILE)]


def test_usd_rows_are_the_nbs_annual_averages(fx_rows: list[tuple[str, date, Decimal, str, bool]]) -> None:
    usd = [row for row in fx_rows if row[0] == "USD"]
    assert {row[1]: row[2] for row in usd} == {date(year, 1, 1): Decimal(rate) for year, rate in NBS_USD.items()}
    for _, valid_from, _, source, sample in usd:
        assert sample is False
        assert "NBS" in source
        assert str(valid_from.year) in source


def test_every_non_usd_row_is_a_sample(fx_rows: list[tuple[str, date, Decimal, str, bool]]) -> None:
    others = [row for row in fx_rows if row[0] != "USD"]
    assert others
    for currency, _, _, source, sample in others:
        assert sample is True, currency
        assert "sample" in source.lower()


def test_fx_seed_covers_the_target_years(fx_rows: list[tuple[str, date, Decimal, str, bool]]) -> None:
    table = FxTable(load_fx_csv(FX_FILE))
    currencies = {row[0] for row in fx_rows}
    assert {"USD", "EUR", "HKD", "JPY", "GBP", "SGD"} <= currencies
    for currency in currencies:
        assert table.rate_on(currency, date(2020, 1, 1)) is not None
        assert table.rate_on(currency, date(2015, 12, 31)) is None
    assert table.rate_on("USD", date(2020, 12, 31)) == Decimal("6.8976")
    assert table.rate_on("USD", date(2019, 12, 31)) == Decimal("6.8985")


def test_fx_seed_rates_are_plausible(fx_rows: list[tuple[str, date, Decimal, str, bool]]) -> None:
    # A rate typed the wrong way round (USD per CNY) would be off by a factor of ~45.
    bands = {
        "USD": ("6", "7.5"),
        "EUR": ("6.5", "9"),
        "GBP": ("8", "10"),
        "HKD": ("0.8", "1"),
        "JPY": ("0.05", "0.08"),
        "SGD": ("4.5", "5.5"),
    }
    for currency, _, rate, _, _ in fx_rows:
        low, high = bands[currency]
        assert Decimal(low) < rate < Decimal(high), (currency, rate)
