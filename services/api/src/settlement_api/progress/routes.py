from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from settlement_api.deps import DisclosureDep, RuntimeDep
from settlement_api.progress.schemas import ProgressOut
from settlement_api.progress.service import progress_report, resolve_period
from settlement_api.query import QueryErrors
from settlement_core.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["progress"])


@router.get(
    "/progress",
    response_model=ProgressOut,
    responses=problem_responses(401, 422),
    summary="Progress toward the targets of one period",
)
async def get_progress(
    runtime: RuntimeDep,
    disclosure: DisclosureDep,
    as_of: Annotated[
        str | None, Query(description="YYYY-MM-DD; default today (Asia/Shanghai); capped at each target's window end")
    ] = None,
    period: Annotated[
        str | None, Query(description="A target period of GET /v1/targets, e.g. 2020; default the latest")
    ] = None,
) -> ProgressOut:
    errors = QueryErrors()
    day = errors.parse_date("as_of", as_of)
    chosen = resolve_period(runtime.catalogue, period)
    if chosen is None:
        errors.add("period", f"unknown period {period!r}; one of: " + ", ".join(runtime.catalogue.periods))
    errors.raise_if_any()
    # Market-wide, never per bank; thin figures suppressed for non-operators (disclosure.py).
    return await progress_report(runtime, day, period=chosen, disclosure=disclosure)
