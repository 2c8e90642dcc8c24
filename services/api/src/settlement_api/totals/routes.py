from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from settlement_api.deps import ReaderDep, RuntimeDep
from settlement_api.http_cache import cached_response
from settlement_api.runtime import Runtime
from settlement_api.security import Reader, bank_not_found, scoped_bank
from settlement_api.totals.repository import bank_exists
from settlement_api.totals.schemas import TotalsOut
from settlement_api.totals.service import parse_totals_query, read_totals, render_csv
from settlement_core.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["totals"])

CategoryQ = Annotated[str | None, Query(description="One of the six category codes; omitted: all categories")]
GranularityQ = Annotated[str | None, Query(description="day | month | year (default month)")]
FromQ = Annotated[
    str | None,
    Query(alias="from", description="YYYY-MM-DD, inclusive, not after `to`; default the target window start"),
]
ToQ = Annotated[
    str | None,
    Query(description="YYYY-MM-DD, inclusive; default the window end. At most 731 days, 240 months or 50 years"),
]
CurrencyQ = Annotated[
    str | None, Query(description="Conversion currency; default the category's target currency (CNY if none)")
]
AcceptH = Annotated[str | None, Header(include_in_schema=False)]
IfNoneMatchH = Annotated[str | None, Header(include_in_schema=False)]

TOTALS_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with Accept: text/csv"},
    304: {"description": "If-None-Match matched the ETag"},
    **problem_responses(401, 404, 422),
}


def wants_csv(accept: str | None) -> bool:
    return accept is not None and "text/csv" in accept.lower()


async def respond_totals(
    runtime: Runtime,
    reader: Reader,
    bank_id: str | None,
    *,
    category: str | None,
    granularity: str | None,
    start: str | None,
    end: str | None,
    currency: str | None,
    accept: str | None,
    if_none_match: str | None,
) -> Response:
    bank = scoped_bank(reader, bank_id)
    query = parse_totals_query(
        runtime.targets,
        runtime.settings,
        category=category,
        granularity=granularity,
        start=start,
        end=end,
        currency=currency,
        bank_id=bank,
    )
    if bank is not None and bank != reader.bank_id and not await bank_exists(runtime.sessions, bank):
        raise bank_not_found(bank)
    totals = await read_totals(runtime.store, await runtime.fx.table(), query)
    if wants_csv(accept):
        return cached_response(render_csv(totals).encode(), "text/csv; charset=utf-8", if_none_match)
    return cached_response(totals.model_dump_json().encode(), "application/json", if_none_match)


@router.get(
    "/totals",
    response_model=TotalsOut,
    responses=TOTALS_RESPONSES,
    summary="Time series of settled amounts (a bank key sees only its own bank)",
)
async def get_totals(
    runtime: RuntimeDep,
    reader: ReaderDep,
    category: CategoryQ = None,
    granularity: GranularityQ = None,
    start: FromQ = None,
    to: ToQ = None,
    bank_id: Annotated[str | None, Query(description="Operators: one bank; a bank key sees only its own")] = None,
    currency: CurrencyQ = None,
    accept: AcceptH = None,
    if_none_match: IfNoneMatchH = None,
) -> Response:
    return await respond_totals(
        runtime,
        reader,
        bank_id,
        category=category,
        granularity=granularity,
        start=start,
        end=to,
        currency=currency,
        accept=accept,
        if_none_match=if_none_match,
    )
