from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from settlement_api.deps import ReaderDep, RuntimeDep
from settlement_api.events.repository import find_event
from settlement_api.events.schemas import EventStatusOut
from settlement_api.events.service import event_status
from settlement_api.security import scoped_bank
from settlement_core.identifiers import EVENT_ID_PATTERN
from settlement_core.problems import FieldError, Problem, problem_responses

router = APIRouter(prefix="/v1", tags=["events"])


@router.get(
    "/events/{event_id}",
    response_model=EventStatusOut,
    responses=problem_responses(401, 404, 422),
    summary="Status of one of the calling bank's events",
)
async def get_event(
    event_id: str,
    runtime: RuntimeDep,
    reader: ReaderDep,
    bank_id: Annotated[str | None, Query(description="Operators: whose event (required for operator keys)")] = None,
) -> EventStatusOut:
    bank = scoped_bank(reader, bank_id)
    if bank is None:
        raise Problem(
            422,
            "Invalid query parameters",
            "Operators must pass ?bank_id=.",
            "invalid-query",
            [FieldError("#/query/bank_id", "required for operator keys")],
        )
    if not EVENT_ID_PATTERN.fullmatch(event_id):
        raise Problem(
            422,
            "Invalid path parameter",
            f"event_id must match {EVENT_ID_PATTERN.pattern}",
            "invalid-path",
            [FieldError("#/path/event_id", "not a valid event id")],
        )
    records = await find_event(runtime.sessions, bank, event_id)
    return event_status(bank, event_id, records.ledger, records.reversal, records.dlq)
