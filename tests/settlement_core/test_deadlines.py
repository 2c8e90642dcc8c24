"""Reporting deadlines (seeds/deadlines.yaml) across the 2020 Spring Festival: due dates and
working days late, hand-derived from the State Council's 2020 notices (holiday 01-24..02-02
after the extension, Sunday 01-19 worked), then for every value date of 2020 against the
`holidays` package's Chinese calendar."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest

from settlement_core.business_days import OutsideCalendar
from settlement_core.deadlines import (
    Deadlines,
    DeadlinesFileError,
    due_date,
    load_deadlines,
    parse_deadlines,
    timeliness,
)
from tests.conftest import ROOT

SEEDS = ROOT / "seeds" / "deadlines.yaml"


@pytest.fixture(scope="module")
def deadlines() -> Deadlines:
    return load_deadlines(SEEDS)


def test_the_seeded_rules(deadlines: Deadlines) -> None:
    assert deadlines.event.rule.kind == "working_days_after_value_date"
    assert deadlines.event.rule.working_days == 5
    assert deadlines.control_totals.rule.kind == "working_day_of_next_month"
    assert deadlines.control_totals.rule.working_day == 10


@pytest.mark.parametrize(
    ("value_date", "due"),
    [
        (date(2020, 1, 21), date(2020, 2, 5)),  # 22, 23, then 3, 4, 5 February
        (date(2020, 1, 22), date(2020, 2, 6)),  # 23, 3, 4, 5, 6
        (date(2020, 1, 17), date(2020, 1, 23)),  # the makeup Sunday 19 counts: 19, 20, 21, 22, 23
        (date(2020, 1, 24), date(2020, 2, 7)),  # a value date on the holiday: 3..7 February
        (date(2020, 2, 2), date(2020, 2, 7)),  # the holiday's last day
    ],
)
def test_event_due_dates_across_the_spring_festival(deadlines: Deadlines, value_date: date, due: date) -> None:
    assert deadlines.event.due(value_date) == due


@pytest.mark.parametrize(
    ("value_date", "arrived", "late"),
    [
        (date(2020, 1, 21), date(2020, 1, 25), 0),  # early, during the holiday
        (date(2020, 1, 21), date(2020, 2, 5), 0),  # on the due date
        (date(2020, 1, 21), date(2020, 2, 6), 1),
        (date(2020, 1, 21), date(2020, 2, 8), 3),  # Saturday: received Monday 10th; 6, 7, 10
        (date(2020, 1, 21), date(2020, 2, 10), 3),
        (date(2020, 1, 17), date(2020, 1, 24), 1),  # due 23rd; the holiday's first day is received 3 February
        (date(2020, 1, 17), date(2020, 2, 2), 1),
        (date(2020, 1, 17), date(2020, 2, 4), 2),
    ],
)
def test_event_lateness_across_the_spring_festival(
    deadlines: Deadlines, value_date: date, arrived: date, late: int
) -> None:
    result = deadlines.event.timeliness(value_date, arrived)
    assert result.working_days_late == late
    assert result.late is (late > 0)
    assert result.due == deadlines.event.due(value_date)
    assert result.arrived == arrived


@pytest.mark.parametrize(
    ("day", "due"),
    [
        (date(2019, 12, 31), date(2020, 1, 15)),  # 1 January off: 2, 3, 6-10, 13, 14, 15
        (date(2020, 1, 1), date(2020, 2, 14)),  # 3-7, 10-14 February
        (date(2020, 1, 31), date(2020, 2, 14)),  # any day of the month: the same due date
        (date(2020, 9, 15), date(2020, 10, 21)),  # 9, 10 (Saturday worked), 12-16, 19, 20, 21
    ],
)
def test_control_totals_due_dates(deadlines: Deadlines, day: date, due: date) -> None:
    assert deadlines.control_totals.due(day) == due


def test_control_totals_lateness(deadlines: Deadlines) -> None:
    january = date(2020, 1, 1)
    assert deadlines.control_totals.timeliness(january, date(2020, 2, 14)).working_days_late == 0
    assert deadlines.control_totals.timeliness(january, date(2020, 2, 15)).working_days_late == 1  # Saturday
    assert deadlines.control_totals.timeliness(january, date(2020, 2, 18)).working_days_late == 2


def test_outside_the_calendar_is_the_calendars_typed_error(deadlines: Deadlines) -> None:
    with pytest.raises(OutsideCalendar):
        deadlines.control_totals.due(date(2026, 12, 1))  # due in January 2027
    with pytest.raises(OutsideCalendar):
        deadlines.event.due(date(2026, 12, 31))
    with pytest.raises(OutsideCalendar):
        timeliness(date(2026, 12, 31), date(2027, 1, 4))


def test_every_2020_value_date_against_the_holidays_package(deadlines: Deadlines) -> None:
    china = holidays.country_holidays("CN", years=[2020, 2021])
    for n in range(366):
        value_date = date(2020, 1, 1) + timedelta(days=n)
        due, found = value_date, 0
        while found < 5:
            due += timedelta(days=1)
            found += china.is_working_day(due)
        assert deadlines.event.due(value_date) == due, value_date
        for wait in range(15):
            arrived = due + timedelta(days=wait)
            received = arrived
            while not china.is_working_day(received):
                received += timedelta(days=1)
            late = sum(china.is_working_day(due + timedelta(days=k)) for k in range(1, (received - due).days + 1))
            assert deadlines.event.timeliness(value_date, arrived).working_days_late == late, (value_date, arrived)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"event": {"description": "x", "rule": {"kind": "working_days_after_value_date", "working_days": 5}}},
            "control_totals: Field required",
        ),
        ({"event": {"description": "x", "rule": {"kind": "by_friday"}}, "control_totals": None}, "event.rule"),
        (
            {
                "event": {"description": "x", "rule": {"kind": "working_days_after_value_date", "working_days": 0}},
                "control_totals": {
                    "description": "y",
                    "rule": {"kind": "working_day_of_next_month", "working_day": 10},
                },
            },
            "event.rule.working_days_after_value_date.working_days: Input should be greater than or equal to 1",
        ),
        (
            {
                "event": {"description": "x", "rule": {"kind": "working_days_after_value_date", "working_days": "5"}},
                "control_totals": {
                    "description": "y",
                    "rule": {"kind": "working_day_of_next_month", "working_day": 10},
                },
            },
            "event.rule.working_days_after_value_date.working_days: Input should be a valid integer",
        ),
        (
            {
                "event": {"description": "x", "rule": {"kind": "working_days_after_value_date", "working_days": 5}},
                "control_totals": {
                    "description": "y",
                    "rule": {"kind": "working_day_of_next_month", "working_day": 16},
                },
            },
            "control_totals.rule.working_day_of_next_month.working_day: Input should be less than or equal to 15",
        ),
        (
            {
                "event": {"description": "x", "rule": {"kind": "working_days_after_value_date", "working_days": 5}},
                "control_totals": {
                    "description": "y",
                    "rule": {"kind": "working_day_of_next_month", "working_day": 10},
                },
                "extra": 1,
            },
            "extra: Extra inputs are not permitted",
        ),
        ([], "deadlines: Input should be a valid dictionary"),
    ],
)
def test_a_bad_document_names_its_field(document: object, message: str) -> None:
    with pytest.raises(DeadlinesFileError) as raised:
        parse_deadlines(document)
    assert str(raised.value).startswith(message), str(raised.value)


def test_a_missing_or_broken_file_is_a_deadlines_file_error(tmp_path: Path) -> None:
    with pytest.raises(DeadlinesFileError, match="No such file"):
        load_deadlines(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("event: [", encoding="utf-8")
    with pytest.raises(DeadlinesFileError, match="not valid YAML"):
        load_deadlines(broken)


def test_due_date_is_none_without_a_deadline_or_a_calendar(deadlines: Deadlines) -> None:
    rule = deadlines.control_totals
    assert due_date(rule, date(2020, 1, 15)) == rule.due(date(2020, 1, 15)) == date(2020, 2, 14)
    assert due_date(None, date(2020, 1, 15)) is None
    assert due_date(rule, date(2026, 12, 15)) is None  # due in January 2027: no notice yet
