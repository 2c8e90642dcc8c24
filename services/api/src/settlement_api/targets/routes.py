from __future__ import annotations

from fastapi import APIRouter

from settlement_api.deps import PublicReaderDep, RuntimeDep
from settlement_api.targets.schemas import TargetsOut
from settlement_api.targets.service import list_targets

router = APIRouter(prefix="/v1", tags=["targets"])


@router.get(
    "/targets",
    response_model=TargetsOut,
    summary="The catalogue: every target period, categories, rules and reference figures",
)
async def get_targets(runtime: RuntimeDep, reader: PublicReaderDep) -> TargetsOut:
    del reader  # authorisation only
    return list_targets(runtime.catalogue)
