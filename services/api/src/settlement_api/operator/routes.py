from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from settlement_api.deps import OperatorDep, RuntimeDep
from settlement_api.operator.schemas import CompletenessOut, LeagueOut
from settlement_api.operator.service import completeness, league
from settlement_api.query import QueryErrors
from settlement_core.problems import problem_responses

router = APIRouter(prefix="/v1/operator", tags=["operator"])

OPERATOR_RESPONSES = problem_responses(401, 403)


@router.get(
    "/league",
    response_model=LeagueOut,
    responses=problem_responses(401, 403, 422),
    summary="Per-bank league table per target (operator key)",
)
async def get_league(
    runtime: RuntimeDep,
    operator: OperatorDep,
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD; default today; capped at each window end")] = None,
) -> LeagueOut:
    del operator  # authorisation only
    errors = QueryErrors()
    day = errors.parse_date("as_of", as_of)
    errors.raise_if_any()
    return await league(runtime, day if day is not None else runtime.today())


@router.get(
    "/completeness",
    response_model=CompletenessOut,
    responses=OPERATOR_RESPONSES,
    summary="Reporting completeness: silent banks and banks with a high DLQ rate (operator key)",
)
async def get_completeness(runtime: RuntimeDep, operator: OperatorDep) -> CompletenessOut:
    del operator
    return await completeness(runtime, datetime.now(UTC))
