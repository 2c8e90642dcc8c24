"""Reporting deadlines (`seeds/deadlines.yaml`): when a report is due, and by how many
working days it arrived late.

Two rules, both on China's working-day calendar (`business_days`):

* `working_days_after_value_date`: due on the N-th working day after the value date (the
  value date itself never counts, whether or not it is a working day);
* `working_day_of_next_month`: a month's report is due on the N-th working day of the month
  after it.

A due date is always a working day, so a deadline never ends on a holiday. A report that
arrives on a non-working day is taken as received on the next working day (nobody processes
it sooner): `working_days_late` is the number of working days after the due date up to that
day, 0 when on time. Saturday after a Friday due date is 1 day late; a Sunday before a
Monday due date is on time.

Every computation raises `business_days.OutsideCalendar` where it needs a day of a year the
calendar does not cover; the caller decides (the operator view counts Monday to Friday).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from settlement_core.business_days import (
    OutsideCalendar,
    add_business_days,
    business_days_between,
    next_business_day_from,
    nth_business_day_of_month,
)
from settlement_core.seed_files import read_yaml


class DeadlinesFileError(ValueError):
    """A malformed deadlines file; the message names the offending field."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class WorkingDaysAfterValueDate(_Entry):
    kind: Literal["working_days_after_value_date"]
    # A month of working days at most: a longer deadline is a different kind of report.
    working_days: int = Field(ge=1, le=22)

    def due(self, value_date: date) -> date:
        return add_business_days(value_date, self.working_days)


class WorkingDayOfNextMonth(_Entry):
    kind: Literal["working_day_of_next_month"]
    # Every month of 2004-2026 has at least 16 working days (February 2011, 2022 and 2026 have
    # 16): a working day up to 15 exists in any month.
    working_day: int = Field(ge=1, le=15)

    def due(self, day_of_month: date) -> date:
        """The due date of the report for the month that contains `day_of_month`."""
        year, month = (
            (day_of_month.year + 1, 1) if day_of_month.month == 12 else (day_of_month.year, day_of_month.month + 1)
        )
        return nth_business_day_of_month(year, month, self.working_day)


Rule = Annotated[WorkingDaysAfterValueDate | WorkingDayOfNextMonth, Field(discriminator="kind")]


class Deadline(_Entry):
    description: str = Field(min_length=1)
    rule: Rule

    def due(self, day: date) -> date:
        """The due date for an event's value date, or for the month containing `day`."""
        return self.rule.due(day)

    def timeliness(self, day: date, arrived: date) -> Timeliness:
        return timeliness(self.due(day), arrived)


class Deadlines(_Entry):
    event: Deadline
    control_totals: Deadline


@dataclass(frozen=True, slots=True)
class Timeliness:
    due: date
    arrived: date  # the business-timezone date the report arrived (business_days.business_date)
    working_days_late: int

    @property
    def late(self) -> bool:
        return self.working_days_late > 0


def timeliness(due: date, arrived: date) -> Timeliness:
    """How late a report due on `due` (a working day) is when it arrives on `arrived`."""
    late = 0 if arrived <= due else business_days_between(due, next_business_day_from(arrived))
    return Timeliness(due=due, arrived=arrived, working_days_late=late)


def lateness(deadline: Deadline, day: date, arrived: date) -> Timeliness | None:
    """`deadline.timeliness`, or None where a day it needs is outside the calendar's years:
    for reads that show lateness beside other facts and must not fail for want of it."""
    try:
        return deadline.timeliness(day, arrived)
    except OutsideCalendar:
        return None


def due_date(deadline: Deadline | None, day: date) -> date | None:
    """`deadline.due(day)`, or None without a deadline or where the calendar cannot say."""
    if deadline is None:
        return None
    try:
        return deadline.due(day)
    except OutsideCalendar:
        return None


def load_deadlines(path: Path) -> Deadlines:
    return parse_deadlines(read_yaml(path, "deadlines", DeadlinesFileError))


def parse_deadlines(document: object) -> Deadlines:
    """The deadlines of a loaded YAML document; DeadlinesFileError names the first problem
    (`event.rule.working_days: ...`)."""
    try:
        return Deadlines.model_validate(document)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "deadlines"
        raise DeadlinesFileError(f"{where}: {error['msg']}") from None
