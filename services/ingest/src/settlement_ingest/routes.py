"""HTTP routes of the intake contract (docs/ingest-contract.md)."""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from settlement_core.categories import MAX_CATEGORIES
from settlement_core.problems import PROBLEM_JSON, FieldError, Problem, problem_responses, validation_problem
from settlement_core.tlog.issuer import receipt_json
from settlement_ingest import iso20022
from settlement_ingest.admission import AdmittedJson, AdmittedXml
from settlement_ingest.deps import BankDep, IntakeDep, JsonBody, ResourcesDep, XmlBody
from settlement_ingest.fast_validation import read_batch, read_event
from settlement_ingest.iso20022 import status_report
from settlement_ingest.json_body import parse_json
from settlement_ingest.probes import kafka_reachable
from settlement_ingest.schemas import Accepted, BatchOut, Health
from settlement_ingest.service import Candidate, Intake, Outcome
from settlement_ingest.validation import COUNTRY_CODES, ValidationFailure, validate_event

logger = logging.getLogger(__name__)

router = APIRouter()

_NOT_READY: dict[str, Any] = {
    "allOf": [
        {"$ref": "#/components/schemas/Problem"},
        {"type": "object", "properties": {"checks": {"type": "object", "additionalProperties": {"type": "string"}}}},
    ]
}

# What each operation can answer besides success (docs/ingest-contract.md, "Errors").
_EVENT_ERRORS = problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 503)
_BATCH_ERRORS = problem_responses(400, 401, 403, 413, 415, 422, 429, 503)
_PUBLIC: dict[str, Any] = {"security": []}


# A batch answer lists a result per item, so it grows with the batch; its error entries are
# bounded on top of each problem's own bound: at most 10 per item and 1,000 in the whole
# answer (items beyond that carry only `error_count`). A 1,000-item answer then stays under
# ~0.5 MB whatever the items hold (a batch of 1,000 events with 100 unknown fields each
# answered 6.3 MB before).
MAX_ITEM_ERRORS = 10
MAX_BATCH_ERRORS = 1000


def _item(index: int, outcome: Outcome, source: str | None, max_errors: int) -> dict[str, Any]:
    item: dict[str, Any] = {"index": index, "event_id": outcome.event_id, "status": outcome.status}
    if outcome.status == "duplicate":
        item["duplicate"] = True
    if outcome.problem is not None:
        item["problem"] = outcome.problem.body(max_errors=max_errors)
    if source is not None:
        item["source"] = source
    if outcome.receipt is not None:
        item["receipt"] = receipt_json(outcome.receipt)
    return item


def _batch_body(outcomes: list[Outcome], sources: list[str] | None = None) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    budget = MAX_BATCH_ERRORS
    for i, outcome in enumerate(outcomes):
        shown = min(MAX_ITEM_ERRORS, budget)
        if outcome.problem is not None:
            budget -= min(shown, len(outcome.problem.errors))
        results.append(_item(i, outcome, sources[i] if sources else None, shown))
    return {
        "accepted": sum(o.status == "accepted" for o in outcomes),
        "duplicates": sum(o.status == "duplicate" for o in outcomes),
        "rejected": sum(o.status == "rejected" for o in outcomes),
        "results": results,
    }


@router.get("/healthz", response_model=Health, response_model_exclude_none=True, tags=["health"], openapi_extra=_PUBLIC)
async def healthz() -> dict[str, str]:
    """Liveness: the process serves HTTP."""
    return {"status": "ok"}


async def _check(name: str, probe: Any) -> tuple[str, str]:
    try:
        ok = await asyncio.wait_for(probe, 2.0)
    except Exception as exc:  # any failure means "not ready"
        return name, f"down: {type(exc).__name__}"
    return name, "ok" if ok is not False else "down"


@router.get(
    "/readyz",
    response_model=Health,
    tags=["health"],
    responses={503: {"description": "A dependency is down", "content": {PROBLEM_JSON: {"schema": _NOT_READY}}}},
    openapi_extra=_PUBLIC,
)
async def readyz(resources: ResourcesDep) -> Response:
    """Readiness: Kafka, Redis and PostgreSQL all answer."""

    def pg() -> bool:
        with resources.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    checks = dict(
        await asyncio.gather(
            _check("kafka", kafka_reachable(resources.settings.kafka_bootstrap)),
            _check("redis", resources.redis.ping()),
            _check("postgres", asyncio.to_thread(pg)),
        )
    )
    kafka_up = checks["kafka"] == "ok" and not resources.intake.kafka_down
    resources.metrics.kafka_up.set(1 if kafka_up else 0)
    if all(v == "ok" for v in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    down = ", ".join(k for k, v in checks.items() if v != "ok")
    problem = Problem(503, "Not ready", f"Dependencies not reachable: {down}", "not-ready", extra={"checks": checks})
    return JSONResponse(problem.body("/readyz"), status_code=503, media_type=PROBLEM_JSON)


@router.get(
    "/metrics",
    tags=["health"],
    response_class=Response,
    responses={
        200: {"description": "Prometheus text format", "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}
    },
    openapi_extra=_PUBLIC,
)
async def metrics(resources: ResourcesDep) -> Response:
    return Response(resources.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.post(
    "/v1/events",
    status_code=202,
    tags=["intake"],
    responses={
        202: {"model": Accepted},
        200: {"model": Accepted, "description": "Duplicate of an event already accepted"},
        **_EVENT_ERRORS,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventIn"}}},
        }
    },
)
async def post_event(bank: BankDep, _admitted: AdmittedJson, body: JsonBody, intake: IntakeDep) -> JSONResponse:
    """One event. 202 once Kafka acknowledged it; 200 `duplicate: true` for a repeat."""
    # The common valid event takes the fast path (fast_validation, pure); whatever it
    # refuses is read, charged and validated exactly as before, so every answer stays the
    # strict path's, byte for byte.
    common = read_event(body)
    candidate: Candidate | None = None if common is None else intake.fast.check(common, bank.id, intake.today())
    if candidate is None:
        document = parse_json(body)
        await intake.admit(bank, 1)
        candidate = validate_event(document, bank.id, intake.rules, intake.today())
    else:
        await intake.admit(bank, 1)
    [outcome] = await intake.submit(bank, [candidate])
    if outcome.problem is not None:
        raise outcome.problem
    if outcome.status == "duplicate":
        return JSONResponse({"event_id": outcome.event_id, "status": "duplicate", "duplicate": True}, status_code=200)
    answer: dict[str, Any] = {"event_id": outcome.event_id, "status": "accepted"}
    if outcome.receipt is not None:
        answer["receipt"] = receipt_json(outcome.receipt)
    return JSONResponse(answer, status_code=202)


@router.post(
    "/v1/events/batch",
    tags=["intake"],
    responses={200: {"model": BatchOut}, **_BATCH_ERRORS},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchIn"}}},
        }
    },
)
async def post_batch(bank: BankDep, _admitted: AdmittedJson, body: JsonBody, intake: IntakeDep) -> JSONResponse:
    """Up to 1000 events; a result per item by index. Valid items are accepted even when
    others are rejected."""
    limit = intake.settings.max_batch_events
    # A body whose every item has the common shape takes the fast path item by item
    # (fast_validation); any other body is read, checked and charged exactly as before.
    items = read_batch(body)
    if items is not None and 1 <= len(items) <= limit:
        await intake.admit(bank, len(items))
        outcomes = await intake.submit(bank, intake.fast.validate_items(items, bank.id, intake.today()))
        return JSONResponse(_batch_body(outcomes))
    document = parse_json(body)
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise validation_problem(
            [FieldError("#/events", "a list of events is required")], 'The body must be {"events": [...]}.'
        )
    extra = sorted(k for k in document if k != "events")
    if extra:
        raise validation_problem([FieldError(f"#/{k}", "unknown field") for k in extra])
    events: list[Any] = document["events"]
    if not 1 <= len(events) <= limit:
        raise validation_problem([FieldError("#/events", f"between 1 and {limit} events are required")])
    # An item that is not even an object is a malformed request, not a rejectable event.
    shapeless = [
        FieldError(f"#/events/{i}", "an event must be a JSON object")
        for i, e in enumerate(events)
        if not isinstance(e, dict)
    ]
    if shapeless:
        raise validation_problem(shapeless, "Every item of events must be a JSON object.")
    await intake.admit(bank, len(events))
    today = intake.today()
    candidates = [validate_event(e, bank.id, intake.rules, today, f"#/events/{i}") for i, e in enumerate(events)]
    outcomes = await intake.submit(bank, candidates)
    return JSONResponse(_batch_body(outcomes))


@functools.cache
def _iso_reader(targets_file: Path) -> iso20022.Reader:
    """The catalogue's signals; the clearing-system table lives beside it (seeds/)."""
    return iso20022.Reader.from_seeds(targets_file, COUNTRY_CODES)


def _iso_candidate(item: iso20022.Transaction, bank_id: str, intake: Intake, today: date) -> Candidate:
    checked = validate_event(item.fields(), bank_id, intake.rules, today)
    if not item.errors:
        return checked
    # Extraction errors explain a missing field better than "field required"; keep the
    # validator's findings only for the other fields.
    covered = {e.pointer for e in item.errors}
    if "#/amount" in covered:  # a missing amount element carries the currency too
        covered.add("#/currency")
    if "#/categories" in covered:  # unclassified: "category" is missing for the same reason
        covered.add("#/category")
    if "#/direction" in covered:  # no direction: no side, so no counterparty either
        covered.add("#/counterparty_country")
    more = [e for e in checked.errors if e.pointer not in covered] if isinstance(checked, ValidationFailure) else []
    return ValidationFailure(item.event_id, (*item.errors, *more))


def _wants_xml(accept: str | None) -> bool:
    """`Accept: application/xml` (or text/xml) without JSON asks for a pacs.002 answer."""
    if not accept:
        return False
    types = {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}
    return bool(types & {"application/xml", "text/xml"}) and not types & {"application/json", "*/*"}


def _tx_status(outcome: Outcome) -> status_report.TxStatus:
    problem = outcome.problem
    findings: tuple[status_report.Finding, ...] = ()
    if problem is not None:
        findings = tuple(status_report.Finding(e.pointer, e.message) for e in problem.errors) or (
            status_report.Finding("#", problem.detail),
        )
    return status_report.TxStatus(outcome.status, problem.slug if problem else None, findings)


_ISO_CATEGORY_DOC = (
    "Category codes for every transaction (repeat for several: ?category=a&category=b); "
    "without it each transaction is classified from the message (docs/ingest-contract.md)."
)
_PACS002 = "application/xml"


@router.post(
    "/v1/iso20022",
    tags=["intake"],
    responses={
        200: {
            "model": BatchOut,
            "content": {_PACS002: {"schema": {"type": "string", "description": "pacs.002.001.11 FIToFIPmtStsRpt"}}},
        },
        **_BATCH_ERRORS,
    },
    openapi_extra={"requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}}},
)
async def post_iso20022(
    bank: BankDep,
    _admitted: AdmittedXml,
    body: XmlBody,
    intake: IntakeDep,
    category: Annotated[list[str] | None, Query(description=_ISO_CATEGORY_DOC)] = None,
    accept: Annotated[str | None, Header(description="application/xml for a pacs.002.001.11 answer")] = None,
) -> Response:
    """pacs.008 / pacs.009 / camt.054 (001.08+); one event per transaction or booked entry,
    results as for the batch endpoint, or as a pacs.002 status report."""
    codes = intake.rules.categories
    given = tuple(category or ())
    # One pointer for the (repeatable) parameter; the message names the offending value.
    errors = [
        FieldError("#/query/category", f"{code!r}: category must be one of " + ", ".join(sorted(codes)))
        for code in given
        if code not in codes
    ]
    errors += [
        FieldError("#/query/category", f"duplicate category {code!r}")
        for i, code in enumerate(given)
        if code in codes and code in given[:i]
    ]
    if len(given) > MAX_CATEGORIES:
        errors.append(FieldError("#/query/category", f"at most {MAX_CATEGORIES} categories"))
    if errors:
        raise validation_problem(errors)
    reader = _iso_reader(intake.settings.targets_file.resolve())
    classification = iso20022.Classification(tuple(sorted(given)), intake.rules.counting.home_country, reader.signals)
    limit = intake.settings.max_batch_events
    try:
        message = reader.read(body, classification, bank.bic, limit)
    except iso20022.IsoDocumentError as exc:
        intake.metrics.event("rejected", "malformed")
        raise Problem(400, "Unusable XML document", exc.detail, exc.reason.replace("_", "-")) from None
    except iso20022.TooManyTransactions as exc:
        raise validation_problem(
            [FieldError("#", f"at most {limit} transactions per message ({exc.count} sent)")]
        ) from None
    outcomes: list[Outcome] = []
    if message.items:
        await intake.admit(bank, len(message.items))
        today = intake.today()
        outcomes = await intake.submit(bank, [_iso_candidate(item, bank.id, intake, today) for item in message.items])
    if _wants_xml(accept):
        report = status_report.write_report(message, [_tx_status(o) for o in outcomes], datetime.now(UTC))
        return Response(report, media_type=_PACS002)
    response: dict[str, Any] = {"message_type": message.message_type}
    response.update(_batch_body(outcomes, [item.source for item in message.items]))
    response["skipped"] = [{"source": s.source, "reason": s.reason} for s in message.skipped]
    return JSONResponse(response)
