from __future__ import annotations

from fastapi import APIRouter, Response

from settlement_api.deps import ReaderDep, RuntimeDep
from settlement_api.totals.routes import (
    TOTALS_RESPONSES,
    AcceptH,
    CategoryQ,
    CurrencyQ,
    FromQ,
    GranularityQ,
    IfNoneMatchH,
    ToQ,
    respond_totals,
)
from settlement_api.totals.schemas import TotalsOut

router = APIRouter(prefix="/v1", tags=["banks"])


@router.get(
    "/banks/{bank_id}/totals",
    response_model=TotalsOut,
    responses=TOTALS_RESPONSES,
    summary="One bank's time series (another bank's key gets 404)",
)
async def get_bank_totals(
    bank_id: str,
    runtime: RuntimeDep,
    reader: ReaderDep,
    category: CategoryQ = None,
    granularity: GranularityQ = None,
    start: FromQ = None,
    to: ToQ = None,
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
