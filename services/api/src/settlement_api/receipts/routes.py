"""GET /v1/log/checkpoint, /v1/log/keys, /v1/log/consistency (public: they carry hashes and
public keys only) and GET /v1/receipts/{event_id}/proof (the bank's own key, or an
operator's with ?bank_id=: the proof carries the bank's leaf and salt).

Formats: docs/receipts.md. The checkpoint is a C2SP signed note, the keys are verifier key
lines, the proof is a C2SP tlog-proof; all text/plain, as the specs write them.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from settlement_api.deps import ReaderDep, RuntimeDep
from settlement_api.receipts.repository import consistency, inclusion_proof, latest_checkpoint, published_keys
from settlement_api.receipts.schemas import ConsistencyOut
from settlement_api.security import scoped_bank
from settlement_core.events import EVENT_ID_PATTERN
from settlement_core.problems import FieldError, Problem, problem_responses
from settlement_core.tlog.store import LedgerRowChanged

router = APIRouter(tags=["receipts"])


def _text(description: str, *errors: int) -> dict[int | str, dict[str, Any]]:
    """`responses=`: a text/plain 200 and these problem statuses."""
    ok: dict[int | str, dict[str, Any]] = {
        200: {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}
    }
    return ok | problem_responses(*errors)


def _no_log() -> Problem:
    return Problem(404, "Not found", "The log has no signed checkpoint yet.", "no-checkpoint")


@router.get(
    "/v1/log/checkpoint",
    response_class=PlainTextResponse,
    responses=_text("The newest signed checkpoint (C2SP tlog-checkpoint)", 404),
    summary="The log's newest signed checkpoint (public)",
)
async def get_checkpoint(runtime: RuntimeDep) -> PlainTextResponse:
    latest = await latest_checkpoint(runtime.engine)
    if latest is None:
        raise _no_log()
    return PlainTextResponse(latest.note, headers={"Cache-Control": "no-cache"})


@router.get(
    "/v1/log/keys",
    response_class=PlainTextResponse,
    responses=_text("Every key that signed, one verifier key line each"),
    summary="The log's public keys, current and retired (public)",
)
async def get_keys(runtime: RuntimeDep) -> PlainTextResponse:
    keys = await published_keys(runtime.engine)
    return PlainTextResponse("".join(k + "\n" for k in keys))


@router.get(
    "/v1/log/consistency",
    response_model=ConsistencyOut,
    responses=problem_responses(404, 422),
    summary="A consistency proof between two tree sizes (public)",
)
async def get_consistency(
    runtime: RuntimeDep,
    from_size: Annotated[int, Query(alias="from", description="the older tree size")],
    to_size: Annotated[int, Query(alias="to", description="the newer tree size, at most the newest checkpoint's")],
) -> ConsistencyOut:
    errors = []
    if from_size < 0:
        errors.append(FieldError("#/query/from", "must not be negative"))
    if to_size < from_size:
        errors.append(FieldError("#/query/to", "must not be smaller than from"))
    if errors:
        raise Problem(
            422, "Invalid query parameters", "from and to are tree sizes, from <= to.", "invalid-query", errors
        )
    size, proof = await consistency(runtime.engine, from_size, to_size)
    if proof is None:
        raise Problem(
            422,
            "Invalid query parameters",
            f"The log's newest checkpoint has {size} leaves.",
            "invalid-query",
            [FieldError("#/query/to", f"beyond the newest checkpoint ({size})")],
        )
    return ConsistencyOut(
        from_size=proof.old_size, to_size=proof.new_size, hashes=[base64.b64encode(h).decode() for h in proof.hashes]
    )


@router.get(
    "/v1/receipts/{event_id}/proof",
    response_class=PlainTextResponse,
    responses=_text("The event's inclusion proof (C2SP tlog-proof)", 401, 404, 409, 422),
    summary="Proof that one of the calling bank's events is in the log",
)
async def get_proof(
    event_id: str,
    runtime: RuntimeDep,
    reader: ReaderDep,
    bank_id: Annotated[str | None, Query(description="Operators: whose event (required for operator keys)")] = None,
) -> PlainTextResponse:
    bank = scoped_bank(reader, bank_id)
    errors = []
    if bank is None:
        errors.append(FieldError("#/query/bank_id", "required for operator keys"))
    if not EVENT_ID_PATTERN.fullmatch(event_id):
        errors.append(FieldError("#/path/event_id", "not a valid event id"))
    if errors or bank is None:
        raise Problem(422, "Invalid parameters", "See errors.", "invalid-query", errors)
    try:
        proof = await inclusion_proof(runtime.engine, bank, event_id)
    except LedgerRowChanged as exc:
        # Evidence that the ledger was edited after the event was logged: never a 500.
        raise Problem(
            409,
            "Ledger row changed",
            f"The ledger row of this event no longer matches leaf {exc.index} of the log.",
            "ledger-row-changed",
        ) from None
    if proof is None:
        raise Problem(
            404,
            "Not found",
            "No such event in the log yet (it is there within the maximum merge delay of its receipt).",
            "not-in-log",
        )
    return PlainTextResponse(proof.encode())
