"""control_totals.reminders: which months' control totals a bank owes and has not declared,
and how overdue they are, judged by tests/support/working_days.py (its own calendar walk)."""

from __future__ import annotations

from datetime import date

from settlement_api.control_totals.reminders import (
    MissingDeclaration,
    OwingBank,
    ReminderState,
    missing_declarations,
    owed_months,
)
from settlement_api.kit.months import Month
from settlement_core.deadlines import Deadline, WorkingDayOfNextMonth
from tests.support.working_days import control_totals_due, working_days_between

DEADLINE = Deadline(
    description="by the 10th working day of the next month",
    rule=WorkingDayOfNextMonth(kind="working_day_of_next_month", working_day=10),
)


def test_a_bank_owes_ended_months_with_events_or_after_registration() -> None:
    bank = OwingBank("A", registered=date(2020, 3, 31), event_months=frozenset({Month(2020, 1)}))
    # January: events; February: neither (registered later); March: registered by its end;
    # April has ended on 2020-05-02; May has not.
    assert owed_months(bank, Month(2020, 1), date(2020, 5, 2)) == [Month(2020, 1), Month(2020, 3), Month(2020, 4)]
    assert owed_months(bank, Month(2020, 2), date(2020, 5, 2)) == [Month(2020, 3), Month(2020, 4)]
    assert owed_months(bank, Month(2020, 6), date(2020, 5, 2)) == []


def test_due_overdue_and_declared_months() -> None:
    today = date(2020, 3, 20)
    banks = [
        OwingBank("A", registered=date(2019, 12, 1), event_months=frozenset()),
        OwingBank("B", registered=date(2030, 1, 1), event_months=frozenset({Month(2020, 2)})),
    ]
    declared = {("A", "2020-01")}
    found = missing_declarations(banks, declared, Month(2019, 12), today, DEADLINE)
    due_dec, due_feb = control_totals_due(2019, 12), control_totals_due(2020, 2)
    assert due_dec is not None
    assert due_feb is not None
    assert due_feb == date(2020, 3, 13)  # the 10th working day of March 2020
    overdue_dec = working_days_between(due_dec, today)
    overdue_feb = working_days_between(due_feb, today)
    assert overdue_dec is not None
    assert overdue_feb is not None
    assert found == [
        MissingDeclaration("A", Month(2019, 12), due_dec, ReminderState.OVERDUE, overdue_dec),
        MissingDeclaration("A", Month(2020, 2), due_feb, ReminderState.OVERDUE, overdue_feb),
        MissingDeclaration("B", Month(2020, 2), due_feb, ReminderState.OVERDUE, overdue_feb),
    ]
    # January 2020's totals fall due across the Spring Festival: 14 February, not 14 January + 2 weeks.
    assert control_totals_due(2020, 1) == date(2020, 2, 14)
    early = missing_declarations(banks, set(), Month(2020, 1), date(2020, 2, 14), DEADLINE)
    assert [(m.bank_id, m.period, m.state, m.working_days_overdue) for m in early] == [
        ("A", Month(2020, 1), ReminderState.DUE, 0)
    ]


def test_no_deadline_or_no_calendar_gives_no_due_date() -> None:
    bank = OwingBank("A", registered=date(2026, 1, 1), event_months=frozenset())
    no_file = missing_declarations([bank], set(), Month(2026, 10), date(2026, 12, 7), None)
    assert [(m.period, m.due, m.state) for m in no_file] == [
        (Month(2026, 10), None, ReminderState.NO_DUE_DATE),
        (Month(2026, 11), None, ReminderState.NO_DUE_DATE),
    ]
    # December 2026's totals fall due in January 2027, a year without a notice yet.
    beyond = missing_declarations([bank], set(), Month(2026, 12), date(2027, 1, 5), DEADLINE)
    assert [(m.period, m.due, m.state) for m in beyond] == [(Month(2026, 12), None, ReminderState.NO_DUE_DATE)]
