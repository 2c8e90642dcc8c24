"""GET /v1/totals and GET /v1/banks/{bank_id}/totals: one bank's (or the market's) time
series, as JSON or CSV, with strong ETags. A bank key is pinned to its own bank."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from settlement_api.deps import EngineDep, FiguresDep, ReaderDep, SessionsDep
from settlement_api.kit.http_cache import CSV_OR_JSON, SeriesRepresentation, SeriesRepresentationDep
from settlement_api.kit.known_at import KnownAtQ, at_knowledge_time
from settlement_api.ledger.repository import bank_exists
from settlement_api.resources import Figures
from settlement_api.security import Reader, bank_not_found, scoped_bank
from settlement_api.totals.schemas import TotalsOut
from settlement_api.totals.service import parse_totals_query, read_totals, render_csv
from settlement_core.problems import problem_responses

router = APIRouter(prefix="/v1")

TOTALS_RESPONSES = {**CSV_OR_JSON, **problem_responses(401, 404, 422)}


@dataclass(frozen=True, slots=True)
class TotalsParams:
    """The query parameters both totals reads take, as sent (parse_totals_query checks them)."""

    category: str | None
    granularity: str | None
    start: str | None
    end: str | None
    currency: str | None
    known_at: str | None


def totals_params(
    category: Annotated[str | None, Query(description="One of the six category codes; omitted: all categories")] = None,
    granularity: Annotated[str | None, Query(description="day | month | year (default month)")] = None,
    start: Annotated[
        str | None,
        Query(alias="from", description="YYYY-MM-DD, inclusive, not after `to`; default the target window start"),
    ] = None,
    to: Annotated[
        str | None,
        Query(description="YYYY-MM-DD, inclusive; default the window end. At most 731 days, 240 months or 50 years"),
    ] = None,
    currency: Annotated[
        str | None, Query(description="Conversion currency; default the category's target currency (CNY if none)")
    ] = None,
    known_at: KnownAtQ = None,
) -> TotalsParams:
    return TotalsParams(category, granularity, start, to, currency, known_at)


TotalsParamsDep = Annotated[TotalsParams, Depends(totals_params)]


async def _respond(
    figures: Figures,
    engine: Engine,
    sessions: sessionmaker[Session],
    reader: Reader,
    bank_id: str | None,
    params: TotalsParams,
    representation: SeriesRepresentation,
) -> Response:
    bank = scoped_bank(reader, bank_id)
    query = parse_totals_query(
        figures.targets,
        figures.settings,
        category=params.category,
        granularity=params.granularity,
        start=params.start,
        end=params.end,
        currency=params.currency,
        bank_id=bank,
    )
    if bank is not None and bank != reader.bank_id and not await bank_exists(sessions, bank):
        raise bank_not_found(bank)
    # A bank's own figures (or an operator's read): no disclosure control applies here.
    figures = await at_knowledge_time(figures, engine, params.known_at)
    totals = await read_totals(figures.store, await figures.fx.table(), query)
    return representation.respond(totals, lambda: render_csv(totals))


@router.get(
    "/totals",
    response_model=TotalsOut,
    responses=TOTALS_RESPONSES,
    summary="Time series of settled amounts (a bank key sees only its own bank)",
    tags=["totals"],
)
async def get_totals(
    figures: FiguresDep,
    engine: EngineDep,
    sessions: SessionsDep,
    reader: ReaderDep,
    params: TotalsParamsDep,
    representation: SeriesRepresentationDep,
    bank_id: Annotated[str | None, Query(description="Operators: one bank; a bank key sees only its own")] = None,
) -> Response:
    return await _respond(figures, engine, sessions, reader, bank_id, params, representation)


@router.get(
    "/banks/{bank_id}/totals",
    response_model=TotalsOut,
    responses=TOTALS_RESPONSES,
    summary="One bank's time series (another bank's key gets 404)",
    tags=["banks"],
)
async def get_bank_totals(
    bank_id: str,
    figures: FiguresDep,
    engine: EngineDep,
    sessions: SessionsDep,
    reader: ReaderDep,
    params: TotalsParamsDep,
    representation: SeriesRepresentationDep,
) -> Response:
    return await _respond(figures, engine, sessions, reader, bank_id, params, representation)
