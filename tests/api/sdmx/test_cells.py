"""Observations and their flags (sdmx/cells.py), written and read back (sdmx/render.py)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from settlement_api.kit.disclosure import Contributors, Disclosure
from settlement_api.sdmx.cells import Figure, Observation, Window, changed_since, in_series, in_span, observations
from settlement_api.sdmx.periods import parse_period
from settlement_api.sdmx.render import DataFormat, data_message
from settlement_api.sdmx.structure import ConfStatus, ObsStatus, Unit, build_structure
from settlement_core.catalogue import load_catalogue
from tests.api.inputs import TARGETS
from tests.api.sdmx.sdmx_reading import read_back
from tests.conftest import ROOT

CATALOGUE = load_catalogue(ROOT / "seeds" / "targets.yaml")
RMB = next(t for t in TARGETS if t.code == "cross_border_rmb")
PUBLIC = Disclosure(3, True)
OPERATOR = Disclosure(3, False)


def of(*banks: str) -> Contributors:
    return Contributors(frozenset(banks))


def figure(period: str, settled: str, *banks: str) -> Figure:
    return Figure(period, parse_period(period), settled, of(*banks))


# The year's total is the sum of the months; March is bank d's alone. 16 significant
# digits: a float would not carry the cents.
WINDOW = Window(
    RMB,
    figure("2020", "4000000000111.11", "a", "b", "c", "d"),
    (
        figure("2020-01", "1000000000000.00", "a", "b", "c"),
        figure("2020-02", "3000000000000.00", "a", "b", "c", "d"),
        figure("2020-03", "111.11", "d"),
    ),
)


def by_key(rows: list[Observation]) -> dict[tuple[str, str, str], Observation]:
    return {(o.freq.value, o.unit.value, o.time_period): o for o in rows}


def test_a_thin_month_is_withheld_with_a_second_one_for_the_public() -> None:
    rows = by_key(observations([WINDOW], PUBLIC))
    march, january = rows[("M", "UNITS", "2020-03")], rows[("M", "UNITS", "2020-01")]
    assert (march.value, march.conf_status) == ("NaN", ConfStatus.CONFIDENTIAL)
    assert (january.value, january.conf_status) == ("NaN", ConfStatus.SECONDARY)
    assert rows[("M", "UNITS", "2020-02")].value == "3000000000000.00"
    assert rows[("A", "UNITS", "2020")].value == "4000000000111.11"
    assert rows[("A", "YI", "2020")].value == "40000.0000"
    assert rows[("M", "YI", "2020-03")].value == "NaN"
    # The year minus the shown month is January + March together (four banks), not March.
    shown = Decimal(rows[("A", "UNITS", "2020")].value) - Decimal(rows[("M", "UNITS", "2020-02")].value)
    assert shown != Decimal("111.11")


def test_operators_get_every_value_with_the_same_flags() -> None:
    rows = by_key(observations([WINDOW], OPERATOR))
    assert rows[("M", "UNITS", "2020-03")].value == "111.11"
    assert rows[("M", "UNITS", "2020-03")].conf_status is ConfStatus.CONFIDENTIAL
    assert rows[("M", "UNITS", "2020-01")].conf_status is ConfStatus.SECONDARY
    assert rows[("M", "YI", "2020-03")].value == "0.0000"
    assert all(o.obs_status is ObsStatus.PROVISIONAL for o in rows.values())


def test_a_thin_year_is_confidential_and_takes_its_months() -> None:
    window = Window(
        RMB, figure("2020", "5.00", "a", "b"), (figure("2020-01", "2.00", "a"), figure("2020-02", "3.00", "b"))
    )
    rows = by_key(observations([window], PUBLIC))
    assert rows[("A", "UNITS", "2020")].conf_status is ConfStatus.CONFIDENTIAL
    assert {rows[("M", "UNITS", p)].value for p in ("2020-01", "2020-02")} == {"NaN"}


def test_the_status_seam_sets_obs_status() -> None:
    rows = observations(
        [WINDOW], PUBLIC, lambda target, period: ObsStatus.NORMAL if period == "2020" else ObsStatus.PROVISIONAL
    )
    assert {o.obs_status for o in rows if o.time_period == "2020"} == {ObsStatus.NORMAL}
    assert {o.obs_status for o in rows if o.time_period == "2020-01"} == {ObsStatus.PROVISIONAL}


def test_period_filter_overlaps_and_never_changes_the_flags() -> None:
    everything = observations([WINDOW], PUBLIC)
    march = in_span(everything, date(2020, 3, 1), date(2020, 3, 31))
    assert {(o.freq.value, o.time_period) for o in march} == {("A", "2020"), ("M", "2020-03")}
    assert all(o in everything for o in march)


def test_series_key_filter_never_changes_the_flags() -> None:
    everything = observations([WINDOW], PUBLIC)
    kept = in_series(everything, (frozenset({"M"}), frozenset({"cross_border_rmb"}), None, frozenset({"UNITS"})))
    assert [o.time_period for o in kept] == ["2020-01", "2020-02", "2020-03"]
    assert [o.conf_status for o in kept] == [ConfStatus.SECONDARY, ConfStatus.FREE, ConfStatus.CONFIDENTIAL]
    assert in_series(everything, (None, frozenset({"offshore"}), None, None)) == []


def test_updated_after_keeps_what_changed() -> None:
    before = Window(RMB, figure("2020", "4000000000000.00", "a", "b", "c", "d"), WINDOW.months[:2])
    changed = changed_since(observations([WINDOW], OPERATOR), observations([before], OPERATOR))
    assert {(o.freq.value, o.time_period) for o in changed} == {("A", "2020"), ("M", "2020-03"), ("M", "2020-01")}


@pytest.mark.parametrize("fmt", list(DataFormat))
@pytest.mark.parametrize("reader", [PUBLIC, OPERATOR])
def test_exports_read_back_exactly(fmt: DataFormat, reader: Disclosure) -> None:
    rows = observations([WINDOW], reader)
    message = data_message(build_structure(CATALOGUE), rows, fmt)
    back = read_back(message.body)
    assert len(back) == len(rows) == 8
    for o in rows:
        read = back[(o.freq.value, o.target, o.currency, o.unit.value, o.time_period)]
        assert (read["OBS_STATUS"], read["CONF_STATUS"]) == (o.obs_status.value, o.conf_status.value)
        if o.value == "NaN":
            assert read["OBS_VALUE"] == "NaN"
        elif fmt is DataFormat.XML:
            assert Decimal(read["OBS_VALUE"]) == Decimal(o.value)
        else:
            # pysdmx's CSV reader parses numbers as float (pd.read_csv): equal as floats;
            # the wire itself carries the exact decimal text (checked below).
            assert float(read["OBS_VALUE"]) == float(o.value)
    if fmt is DataFormat.CSV:
        table = list(csv.DictReader(io.StringIO(message.body)))
        exact = {(r["FREQ"], r["UNIT"], r["TIME_PERIOD"]): r["OBS_VALUE"] for r in table}
        assert {k: o.value for k, o in by_key(rows).items()} == exact
    assert Unit.YI.value in message.body
    assert "4000000000111.11" in message.body
