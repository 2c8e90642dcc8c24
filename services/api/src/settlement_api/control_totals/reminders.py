"""Reminders, the pure part (issue 25 step 6; docs/statistics.md, "Reminders"): which
months' control totals each bank owes and has not declared, when they are or were due, and
by how many working days they are overdue.

A bank owes a month's control totals when the month has ended and is on or after `since`,
the bank is active, and either it has events valued in that month or it was registered by
the month's end (a bank that reported nothing still declares zeros). Due dates follow the
deadlines seed's control-totals rule; a due date the working-day calendar cannot compute
(a year without a notice) is left null rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from settlement_api.kit.months import Month
from settlement_core.business_days import OutsideCalendar, business_days_between
from settlement_core.deadlines import Deadline, due_date


@dataclass(frozen=True, slots=True)
class OwingBank:
    bank_id: str
    registered: date  # business date of its registration
    event_months: frozenset[Month]  # months with at least one of its events, from `since`


class ReminderState(StrEnum):
    DUE = "due"  # the due date is today or later
    OVERDUE = "overdue"
    NO_DUE_DATE = "no_due_date"  # no deadlines file, or the calendar does not cover it


@dataclass(frozen=True, slots=True)
class MissingDeclaration:
    bank_id: str
    period: Month
    due: date | None
    state: ReminderState
    working_days_overdue: int  # working days after the due date up to today; 0 unless overdue


def owed_months(bank: OwingBank, since: Month, today: date) -> list[Month]:
    """The ended months from `since` the bank owes, ascending."""
    months: list[Month] = []
    month = since
    while month.last_day < today:
        if month in bank.event_months or bank.registered <= month.last_day:
            months.append(month)
        month = month.following()
    return months


def _missing(bank_id: str, month: Month, deadline: Deadline | None, today: date) -> MissingDeclaration:
    due = due_date(deadline, month.first_day)
    if due is None:
        return MissingDeclaration(bank_id, month, None, ReminderState.NO_DUE_DATE, 0)
    if due >= today:
        return MissingDeclaration(bank_id, month, due, ReminderState.DUE, 0)
    try:
        overdue = business_days_between(due, today)
    except OutsideCalendar:
        return MissingDeclaration(bank_id, month, due, ReminderState.NO_DUE_DATE, 0)
    return MissingDeclaration(bank_id, month, due, ReminderState.OVERDUE, overdue)


def missing_declarations(
    banks: Iterable[OwingBank],
    declared: Set[tuple[str, str]],
    since: Month,
    today: date,
    deadline: Deadline | None,
) -> list[MissingDeclaration]:
    """Every (bank, month) owed and not in `declared` ((bank_id, "YYYY-MM") pairs), most
    overdue first, then by bank and month."""
    missing = [
        _missing(bank.bank_id, month, deadline, today)
        for bank in banks
        for month in owed_months(bank, since, today)
        if (bank.bank_id, month.label) not in declared
    ]
    return sorted(missing, key=lambda m: (-m.working_days_overdue, m.bank_id, m.period))
