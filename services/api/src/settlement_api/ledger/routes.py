"""GET /v1/events/{event_id} (a bank's own event), the operator views /v1/operator/league and
/v1/operator/completeness, and the audit log /v1/audit (operator key)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from settlement_api.deps import DeadlinesDep, FiguresDep, OperatorDep, ReaderDep, SessionsDep, SettingsDep
from settlement_api.kit.query import QueryErrors
from settlement_api.ledger.audit import read_page
from settlement_api.ledger.events import event_status
from settlement_api.ledger.operator import completeness, league
from settlement_api.ledger.repository import find_event
from settlement_api.ledger.schemas import AuditPageOut, CompletenessOut, EventStatusOut, LeagueOut
from settlement_api.security import required_bank
from settlement_core.identifiers import EVENT_ID_PATTERN
from settlement_core.problems import FieldError, Problem, problem_responses

router = APIRouter(prefix="/v1")

OPERATOR_RESPONSES = problem_responses(401, 403)
# audit_log.id is a PostgreSQL BIGINT: a larger `before` is malformed (422), not a failed read.
MAX_ID = 2**63 - 1


@router.get(
    "/events/{event_id}",
    response_model=EventStatusOut,
    responses=problem_responses(401, 404, 422),
    summary="Status of one of the calling bank's events",
    tags=["events"],
)
async def get_event(
    event_id: str,
    sessions: SessionsDep,
    reader: ReaderDep,
    deadlines: DeadlinesDep,
    settings: SettingsDep,
    bank_id: Annotated[str | None, Query(description="Operators: whose event (required for operator keys)")] = None,
) -> EventStatusOut:
    bank = required_bank(reader, bank_id)
    if not EVENT_ID_PATTERN.fullmatch(event_id):
        raise Problem(
            422,
            "Invalid path parameter",
            f"event_id must match {EVENT_ID_PATTERN.pattern}",
            "invalid-path",
            [FieldError("#/path/event_id", "not a valid event id")],
        )
    records = await find_event(sessions, bank, event_id)
    deadline = None if deadlines is None else deadlines.event
    return event_status(bank, event_id, records, deadline, settings.business_timezone)


@router.get(
    "/operator/league",
    response_model=LeagueOut,
    responses=problem_responses(401, 403, 422),
    summary="Per-bank league table per target (operator key)",
    tags=["operator"],
)
async def get_league(
    figures: FiguresDep,
    sessions: SessionsDep,
    operator: OperatorDep,
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD; default today; capped at each window end")] = None,
) -> LeagueOut:
    del operator  # authorisation only
    errors = QueryErrors()
    day = errors.parse_date("as_of", as_of)
    errors.raise_if_any()
    as_of_day = day if day is not None else figures.today
    fx = await figures.fx.table()
    return await league(figures.store, fx, sessions, figures.targets, figures.catalogue.rules, as_of_day)


@router.get(
    "/operator/completeness",
    response_model=CompletenessOut,
    responses=OPERATOR_RESPONSES,
    summary="Reporting completeness: silent banks and banks with a high DLQ rate (operator key)",
    tags=["operator"],
)
async def get_completeness(sessions: SessionsDep, settings: SettingsDep, operator: OperatorDep) -> CompletenessOut:
    del operator
    return await completeness(sessions, settings, datetime.now(UTC))


@router.get(
    "/audit",
    response_model=AuditPageOut,
    responses=problem_responses(401, 403, 422, 503),
    summary="The audit log: administrative actions and operator reads of per-bank data (operator key)",
    tags=["operator"],
)
async def get_audit(
    sessions: SessionsDep,
    operator: OperatorDep,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only entries older than this id (paging)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Entries per page")] = 100,
) -> AuditPageOut:
    del operator  # authorisation only
    return await read_page(sessions, before, limit)
