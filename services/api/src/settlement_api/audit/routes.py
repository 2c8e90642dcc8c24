from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from settlement_api.audit.schemas import AuditPageOut
from settlement_api.audit.service import read_page
from settlement_api.deps import OperatorDep, RuntimeDep
from settlement_core.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["operator"])
# audit_log.id is a PostgreSQL BIGINT: a larger `before` is malformed (422), not a failed read.
MAX_ID = 2**63 - 1


@router.get(
    "/audit",
    response_model=AuditPageOut,
    responses=problem_responses(401, 403, 422, 503),
    summary="The audit log: administrative actions and operator reads of per-bank data (operator key)",
)
async def get_audit(
    runtime: RuntimeDep,
    operator: OperatorDep,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only entries older than this id (paging)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Entries per page")] = 100,
) -> AuditPageOut:
    del operator  # authorisation only
    return await read_page(runtime, before, limit)
