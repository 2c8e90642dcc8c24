"""Gathering one bank's month of facts and scoring it (service.py), in worker threads: the
ledger counts and arrival days (repository.py), the month's timeliness (the timeliness
slice) and its control totals, reconciled as a read of them would (the control-totals
slice)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from settlement_api.control_totals.reconcile import Reconciler, read
from settlement_api.kit.months import Month
from settlement_api.quality import repository as repo
from settlement_api.quality.service import ControlTotalsState, MonthFacts, QualityScore, longest_silence, score
from settlement_api.quality.weights import QualityWeights
from settlement_api.timeliness.repository import arrivals
from settlement_api.timeliness.service import assess
from settlement_core.business_days import OutsideCalendar, business_date, is_business_day
from settlement_core.db.engine import translate_errors
from settlement_core.deadlines import Deadline, due_date


@dataclass(frozen=True, slots=True)
class Scoring:
    """What scoring needs beyond the bank and month."""

    sessions: sessionmaker[Session]
    weights: QualityWeights
    deadline: Deadline  # the event deadline (timeliness)
    control_totals: Reconciler
    silent_allowance: int  # SILENT_BUSINESS_DAYS


def working_day(day: date) -> bool:
    """China's calendar where it has a notice; Monday to Friday beyond it (every 1 January
    until the package has the year's notice), as the operator view's silence count does."""
    try:
        return is_business_day(day)
    except OutsideCalendar:
        return day.weekday() < 5


def _working_days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1) if working_day(first + timedelta(days=n))]


async def _control_totals(scoring: Scoring, bank_id: str, month: Month, now: datetime) -> ControlTotalsState:
    view = await read(scoring.control_totals, bank_id, month, now)
    if view is not None:
        return (
            ControlTotalsState.OPEN_BREAK
            if any(b.status == "open" for b in view.breaks)
            else ControlTotalsState.BALANCED
        )
    due = due_date(scoring.control_totals.deadline, month.first_day)
    today = business_date(now, scoring.control_totals.timezone)
    return ControlTotalsState.MISSING if due is not None and due < today else ControlTotalsState.PENDING


def _ledger_facts(
    scoring: Scoring, bank_id: str, month: Month, today: date, timezone: str
) -> tuple[repo.LedgerMonth, int, int, set[date]]:
    with scoring.sessions() as session:
        ledger = repo.ledger_month(session, bank_id, month.first_day, month.last_day)
        dead = repo.dead_letters(session, bank_id, month.first_day, month.last_day, timezone)
        refused = repo.intake_rejections(session, bank_id, f"{month.first_day:%Y-%m}")
        days = repo.arrival_days(session, bank_id, month.first_day, min(month.last_day, today), timezone)
    return ledger, dead, refused, days


async def quality(scoring: Scoring, bank_id: str, month: Month, now: datetime) -> QualityScore:
    timezone = scoring.control_totals.timezone
    today = business_date(now, timezone)
    with translate_errors():
        groups = await arrivals(scoring.sessions, bank_id, month.first_day, month.last_day, timezone)
        ledger, dead, refused, days = await asyncio.to_thread(_ledger_facts, scoring, bank_id, month, today, timezone)
    working = _working_days(month.first_day, min(month.last_day, today))
    facts = MonthFacts(
        timeliness=assess(groups, scoring.deadline),
        reversals=ledger.reversals,
        corrections=ledger.corrections,
        unknown_countries=ledger.unknown_countries,
        dead_letters=dead,
        refused=refused,
        control_totals=await _control_totals(scoring, bank_id, month, now),
        longest_silence=longest_silence([d in days for d in working]),
        working_days=len(working),
        silent_allowance=scoring.silent_allowance,
    )
    return score(facts, scoring.weights)


def _active_banks(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    with sessions() as session:
        return repo.active_banks(session)


async def league(scoring: Scoring, month: Month, now: datetime) -> list[tuple[str, str, QualityScore]]:
    """Every active bank's score for the month, lowest first (then by bank id)."""
    with translate_errors():
        banks = await asyncio.to_thread(_active_banks, scoring.sessions)
    scored = [(bank_id, name, await quality(scoring, bank_id, month, now)) for bank_id, name in banks]
    return sorted(scored, key=lambda row: (row[2].score, row[0]))
