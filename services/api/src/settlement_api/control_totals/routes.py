"""Control totals (issue 25 step 3; docs/api.md, docs/statistics.md):

- POST /v1/control-totals: a bank declares a month's count and sum per target and currency
  (its own key; the bank is the key's, never the body's). 201 for a new version, 200 with the
  stored declaration when the same lines are sent again;
- GET /v1/control-totals/{period}: the declaration, its comparison with the counted events
  and the breaks (a bank its own; operators pass ?bank_id=, an audited per-bank read);
- GET /v1/operator/control-totals/breaks: every bank's breaks (operator key, audited read);
- POST /v1/operator/control-totals/breaks/{break_id}/acknowledge: an operator accepts an open
  break with a note (kept in the break's trail and the audit log);
- GET /v1/operator/control-totals/missing: reminders, the control totals banks owe and have
  not declared, with their due dates and working days overdue (operator key, audited read).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from settlement_api.control_totals.reconcile import (
    acknowledge,
    declare,
    for_bank,
    list_breaks,
    missing,
    read,
    signs_submissions,
)
from settlement_api.control_totals.schemas import (
    AcknowledgeIn,
    BreakListOut,
    BreakOut,
    ControlTotalsOut,
    DeclarationIn,
    MissingListOut,
)
from settlement_api.control_totals.service import check_declaration
from settlement_api.deps import (
    ActingOperatorDep,
    BankDep,
    CatalogueDep,
    ControlTotalsDep,
    OperatorDep,
    ReaderDep,
    SessionsDep,
    SettingsDep,
)
from settlement_api.kit.months import MONTH_PATTERN, Month, month_problem, parse_month
from settlement_api.ledger.repository import bank_exists
from settlement_api.security import bank_not_found, required_bank
from settlement_core.business_days import business_date
from settlement_core.problems import Problem, problem_responses

router = APIRouter(prefix="/v1")

# Break ids are PostgreSQL BIGINTs: a larger id is malformed (422), not a failed read.
MAX_ID = 2**63 - 1


@router.post(
    "/control-totals",
    response_model=ControlTotalsOut,
    status_code=201,
    responses={
        200: {"model": ControlTotalsOut, "description": "The same lines again: the stored declaration"},
        **problem_responses(400, 401, 403, 422, 503),
    },
    summary="Declare a month's control totals (bank key): count and sum per target and currency",
    tags=["control totals"],
)
async def post_control_totals(
    body: DeclarationIn,
    response: Response,
    bank: BankDep,
    reconciler: ControlTotalsDep,
    catalogue: CatalogueDep,
    settings: SettingsDep,
) -> ControlTotalsOut:
    bank_id = bank.bank_id
    assert bank_id is not None  # BankDep admits bank keys only
    now = datetime.now(UTC)
    declaration = check_declaration(
        body,
        targets=catalogue.codes,
        currencies=frozenset(settings.accepted_currencies),
        max_amount=settings.max_amount,
        today=business_date(now, settings.business_timezone),
    )
    if await signs_submissions(reconciler, bank_id):
        # The API does not verify request signatures yet: a bank registered to sign (HMAC or
        # Ed25519) is refused rather than trusted on its bearer key alone (docs/statistics.md).
        raise Problem(
            403,
            "Forbidden",
            "This bank signs its submissions; the API does not verify signatures yet, so its control totals "
            "cannot be declared here.",
            "forbidden",
        )
    created, view = await declare(reconciler, bank_id, declaration, now)
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = f"/v1/control-totals/{view.period}"
    return for_bank(view)


@router.get(
    "/control-totals/{period}",
    response_model=ControlTotalsOut,
    responses=problem_responses(401, 404, 422, 503),
    summary="A month's control totals, compared with the counted events, and their breaks",
    tags=["control totals"],
)
async def get_control_totals(
    period: Annotated[str, Path(description="YYYY-MM", pattern=MONTH_PATTERN)],
    reader: ReaderDep,
    reconciler: ControlTotalsDep,
    sessions: SessionsDep,
    bank_id: Annotated[str | None, Query(description="Operators: whose (required); a bank key sees its own")] = None,
) -> ControlTotalsOut:
    bank = required_bank(reader, bank_id)
    month = parse_month(period)
    if month is None:
        raise month_problem(period, "#/path/period")
    if bank != reader.bank_id and not await bank_exists(sessions, bank):
        raise bank_not_found(bank)
    view = await read(reconciler, bank, month, datetime.now(UTC))
    if view is None:
        raise Problem(404, "Not found", f"No control totals declared for {month.label}.", "not-found")
    return view if reader.is_operator else for_bank(view)


@router.get(
    "/operator/control-totals/breaks",
    response_model=BreakListOut,
    responses=problem_responses(401, 403, 422, 503),
    summary="Control-total breaks of every bank (operator key)",
    tags=["operator"],
)
async def get_breaks(
    operator: OperatorDep,
    reconciler: ControlTotalsDep,
    status: Annotated[
        Literal["open", "acknowledged", "closed", "all"], Query(description="Which breaks (default open)")
    ] = "open",
) -> BreakListOut:
    del operator  # authorisation only (the read is audited by the dependency)
    return await list_breaks(reconciler, status, datetime.now(UTC))


@router.post(
    "/operator/control-totals/breaks/{break_id}/acknowledge",
    response_model=BreakOut,
    responses=problem_responses(400, 401, 403, 404, 409, 422, 503),
    summary="Acknowledge an open control-total break with a note (operator key)",
    tags=["operator"],
)
async def post_acknowledge(
    break_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: AcknowledgeIn,
    operator: ActingOperatorDep,
    reconciler: ControlTotalsDep,
) -> BreakOut:
    assert operator.principal is not None  # ActingOperatorDep admits operator keys only
    return await acknowledge(reconciler, break_id, operator.principal.id, body.note, datetime.now(UTC))


@router.get(
    "/operator/control-totals/missing",
    response_model=MissingListOut,
    responses=problem_responses(401, 403, 422, 503),
    summary="Reminders: control totals owed and not declared, with due dates and working days overdue (operator key)",
    tags=["operator"],
)
async def get_missing(
    operator: OperatorDep,
    reconciler: ControlTotalsDep,
    since: Annotated[
        str | None,
        Query(pattern=MONTH_PATTERN, description="First month considered, YYYY-MM (default: 12 months ago)"),
    ] = None,
) -> MissingListOut:
    del operator  # authorisation only (the read is audited by the dependency)
    now = datetime.now(UTC)
    if since is None:
        this_month = Month.of(business_date(now, reconciler.timezone))
        first = Month(this_month.year - 1, this_month.month)
    else:
        parsed = parse_month(since)
        if parsed is None:
            raise month_problem(since, "#/query/since")
        first = parsed
    return await missing(reconciler, first, now)
