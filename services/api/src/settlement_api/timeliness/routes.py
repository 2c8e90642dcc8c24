"""GET /v1/banks/{bank_id}/timeliness?period=YYYY-MM: how many of a bank's events of a month
arrived by their deadline and how late the others were, in working days (issue 25 step 2).
A bank reads its own (another bank's answers 404); operators read any bank, an audited
per-bank read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from settlement_api.deps import EventDeadlineDep, ReaderDep, SessionsDep, SettingsDep
from settlement_api.kit.months import MONTH_PATTERN, month_problem, parse_month
from settlement_api.ledger.repository import bank_exists
from settlement_api.security import bank_not_found, required_bank
from settlement_api.timeliness.repository import arrivals
from settlement_api.timeliness.schemas import LateByOut, TimelinessOut
from settlement_api.timeliness.service import assess
from settlement_core.identifiers import BANK_ID_PATTERN
from settlement_core.problems import problem_responses

router = APIRouter(prefix="/v1")


@router.get(
    "/banks/{bank_id}/timeliness",
    response_model=TimelinessOut,
    responses=problem_responses(401, 404, 422, 503),
    summary="A bank's events of a month: on time or how many working days late (bank's own key or operator)",
    tags=["banks"],
)
async def get_timeliness(
    bank_id: Annotated[str, Path(pattern=BANK_ID_PATTERN.pattern, description="The bank")],
    period: Annotated[str, Query(pattern=MONTH_PATTERN, description="The month of the value dates, YYYY-MM")],
    reader: ReaderDep,
    deadline: EventDeadlineDep,
    sessions: SessionsDep,
    settings: SettingsDep,
) -> TimelinessOut:
    bank = required_bank(reader, bank_id)
    month = parse_month(period)
    if month is None:
        raise month_problem(period, "#/query/period")
    if bank != reader.bank_id and not await bank_exists(sessions, bank):
        raise bank_not_found(bank)
    timezone = settings.business_timezone
    result = assess(await arrivals(sessions, bank, month.first_day, month.last_day, timezone), deadline)
    return TimelinessOut(
        bank_id=bank,
        period=month.label,
        rule=deadline.description,
        timezone=timezone,
        events=result.events,
        on_time=result.on_time,
        late=result.late,
        not_assessed=result.not_assessed,
        late_share=str(result.late_share),
        max_working_days_late=result.max_working_days_late,
        late_by=[LateByOut(working_days=days, events=n) for days, n in result.late_by.items()],
    )
