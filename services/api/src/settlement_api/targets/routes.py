from __future__ import annotations

from fastapi import APIRouter

from settlement_api.deps import PublicReaderDep, RuntimeDep
from settlement_api.targets.schemas import TargetsOut
from settlement_api.targets.service import list_targets
from settlement_core.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["targets"])


@router.get(
    "/targets",
    response_model=TargetsOut,
    responses=problem_responses(401),
    summary="The catalogue: every target period, categories, rules and reference figures",
)
async def get_targets(runtime: RuntimeDep, reader: PublicReaderDep) -> TargetsOut:
    del reader  # authorisation only
    return list_targets(runtime.catalogue)
