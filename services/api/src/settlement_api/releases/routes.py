"""GET /v1/releases, /v1/releases/{id}, /v1/releases/{id}/revisions and the operator's
release calendar /v1/operator/release-calendar (docs/statistics.md, releases). Releases are made by
`settlementctl release create`, never over HTTP."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request

from settlement_api.deps import DisclosureDep, EngineDep, FiguresDep, OperatorDep, PublicReaderDep, SessionsDep
from settlement_api.ledger.audit import record_operator_read
from settlement_api.releases.calendar import load_calendar
from settlement_api.releases.repository import get_release
from settlement_api.releases.schemas import CalendarOut, ReleaseOut, ReleasesOut, RevisionsOut
from settlement_api.releases.service import calendar_out, release_out, releases_out, revisions_out
from settlement_core.problems import Problem, problem_responses

router = APIRouter(tags=["releases"])

# The example is the first release a deployment makes (ids start at 1 and are never reused).
ReleaseId = Annotated[int, Path(ge=1, le=2**63 - 1, description="A release id of GET /v1/releases", examples=[1])]


def _not_found(release_id: int) -> Problem:
    return Problem(404, "Not found", f"No release {release_id}.", "not-found")


@router.get(
    "/v1/releases", response_model=ReleasesOut, responses=problem_responses(401), summary="Every release, oldest first"
)
async def get_releases(sessions: SessionsDep, reader: PublicReaderDep) -> ReleasesOut:
    del reader  # authorisation only: the list holds no figure

    def read() -> ReleasesOut:
        with sessions() as session:
            return releases_out(session)

    return await asyncio.to_thread(read)


@router.get(
    "/v1/operator/release-calendar",
    response_model=CalendarOut,
    responses=problem_responses(401, 403),
    summary="The release calendar: each promised release released, released late, due or overdue (operator key)",
)
async def get_calendar(figures: FiguresDep, sessions: SessionsDep, operator: OperatorDep) -> CalendarOut:
    del operator
    settings = figures.settings
    promises = load_calendar(settings.release_calendar_path)

    def read() -> CalendarOut:
        with sessions() as session:
            return calendar_out(session, promises, figures.today, settings.business_timezone)

    return await asyncio.to_thread(read)


@router.get(
    "/v1/releases/{release_id}",
    response_model=ReleaseOut,
    responses=problem_responses(401, 404, 422),
    summary="One release: every target's frozen figure (thin figures suppressed for non-operators)",
)
async def get_one(release_id: ReleaseId, sessions: SessionsDep, disclosure: DisclosureDep) -> ReleaseOut:
    def read() -> ReleaseOut | None:
        with sessions() as session:
            stored = get_release(session, release_id)
        return None if stored is None else release_out(stored, disclosure)

    found = await asyncio.to_thread(read)
    if found is None:
        raise _not_found(release_id)
    return found


@router.get(
    "/v1/releases/{release_id}/revisions",
    response_model=RevisionsOut,
    responses=problem_responses(401, 404, 422),
    summary="Per target: the published figure, today's and what explains the difference (per bank: operators)",
)
async def get_revisions(
    release_id: ReleaseId,
    request: Request,
    figures: FiguresDep,
    engine: EngineDep,
    sessions: SessionsDep,
    reader: PublicReaderDep,
    disclosure: DisclosureDep,
) -> RevisionsOut:
    found = await revisions_out(engine, figures.catalogue, release_id, disclosure)
    if found is None:
        raise _not_found(release_id)
    if reader.is_operator and reader.principal is not None:
        # The per-bank explanation is a read of per-bank data: audited like /v1/banks/...
        await record_operator_read(sessions, reader.principal.id, request.url.path, request.query_params)
    return found
