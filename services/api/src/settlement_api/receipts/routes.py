"""GET /v1/log/checkpoint, /v1/log/keys, /v1/log/consistency (public in any mode: they carry
hashes and public keys only, and the document says so with an empty `security`) and
GET /v1/receipts/{event_id}/proof (the bank's own key, or an operator's with ?bank_id=: the
proof carries the bank's leaf and salt).

The consistency sizes are `from` and `to` (tree sizes, integers), as issue 29's contract
names them; openapi.py types `from`/`to` as dates only where the route parses them as dates.

Formats: docs/receipts.md. The checkpoint is a C2SP signed note, the keys are verifier key
lines, the proof is a C2SP tlog-proof; all text/plain, as the specs write them.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from settlement_api.deps import EngineDep, ReaderDep
from settlement_api.receipts.reads import consistency, inclusion_proof, latest_checkpoint, published_keys
from settlement_api.receipts.schemas import ConsistencyOut
from settlement_api.security import scoped_bank
from settlement_core.identifiers import EVENT_ID_PATTERN
from settlement_core.problems import FieldError, Problem, problem_responses
from settlement_core.tlog.store import LedgerRowChanged

router = APIRouter(tags=["receipts"])
_PUBLIC: dict[str, Any] = {"security": []}


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
    openapi_extra=_PUBLIC,
)
async def get_checkpoint(engine: EngineDep) -> PlainTextResponse:
    latest = await latest_checkpoint(engine)
    if latest is None:
        raise _no_log()
    return PlainTextResponse(latest.note, headers={"Cache-Control": "no-cache"})


@router.get(
    "/v1/log/keys",
    response_class=PlainTextResponse,
    responses=_text("Every key that signed, one verifier key line each"),
    summary="The log's public keys, current and retired (public)",
    openapi_extra=_PUBLIC,
)
async def get_keys(engine: EngineDep) -> PlainTextResponse:
    keys = await published_keys(engine)
    return PlainTextResponse("".join(k + "\n" for k in keys))


@router.get(
    "/v1/log/consistency",
    response_model=ConsistencyOut,
    responses=problem_responses(404, 422),
    summary="A consistency proof between two tree sizes (public)",
    openapi_extra=_PUBLIC,
)
async def get_consistency(
    engine: EngineDep,
    first: Annotated[int, Query(alias="from", ge=0, description="the older tree size")],
    second: Annotated[
        int, Query(alias="to", ge=0, description="the newer tree size: from <= to <= the newest checkpoint's")
    ],
) -> ConsistencyOut:
    # Sizes the schema allows but no proof exists for are 404 (no such proof), not 422:
    # whether a size is too large depends on the log's state, not on the request's form.
    size, proof = await consistency(engine, first, second) if first <= second else (-1, None)
    if proof is None:
        pointer, reason = ("#/query/from", "larger than to") if first > second else ("#/query/to", f"beyond {size}")
        detail = (
            "No tree extends a larger one." if first > second else f"The log's newest checkpoint has {size} leaves."
        )
        raise Problem(404, "No such proof", detail, "no-such-proof", [FieldError(pointer, reason)])
    return ConsistencyOut(
        from_=proof.old_size, to=proof.new_size, hashes=[base64.b64encode(h).decode() for h in proof.hashes]
    )


@router.get(
    "/v1/receipts/{event_id}/proof",
    response_class=PlainTextResponse,
    responses=_text("The event's inclusion proof (C2SP tlog-proof)", 401, 404, 409, 422),
    summary="Proof that one of the calling bank's events is in the log",
)
async def get_proof(
    event_id: str,
    engine: EngineDep,
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
        proof = await inclusion_proof(engine, bank, event_id)
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
